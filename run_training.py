#!/usr/bin/env python3
"""Entry point: ``python run_training.py --help``. Same as the ``hotline-trainer`` console script."""

import sys

from simulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
