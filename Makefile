# Shortcuts for the scripts the README names.
.PHONY: setup demo test bench
setup:
	bash scripts/setup.sh --with-browser --with-neural
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
bench: setup
	.venv/bin/python bench/run_all.py
