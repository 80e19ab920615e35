#!/usr/bin/env bash
# Set up (if needed, with the browser, the neural voice and the PostgreSQL server the tests need) and run the whole
# test suite and the linter. The tests start a throwaway PostgreSQL cluster themselves (scripts/throwaway_postgres.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser --with-neural --with-postgres
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
