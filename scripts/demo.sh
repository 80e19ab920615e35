#!/usr/bin/env bash
# Set up (if needed) and start a practice call. With no terminal, a bundled scripted trainee answers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python run_training.py practice wrong-courtroom --demo "$@"
