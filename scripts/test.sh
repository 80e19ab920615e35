#!/usr/bin/env bash
# Set up (if needed, with the browser the report test needs) and run the whole test suite and the linter.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
