# Shortcuts for the scripts the README names.
.PHONY: setup demo test bench
setup:
	bash scripts/setup.sh --with-browser --with-neural
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench: setup
	.venv/bin/python bench/scoring.py
	.venv/bin/python bench/session.py --voice
	.venv/bin/python bench/tts.py
	.venv/bin/python bench/voice.py
	.venv/bin/python bench/history.py
