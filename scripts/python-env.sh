#!/usr/bin/env bash
# Creates .venv with the pinned Dagster and the block library (editable), once per change of the
# requirements: a stamp of their hash skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=.venv
stamp_input=$(cat blocks/python/requirements.txt blocks/python/requirements-dev.txt blocks/python/constraints.txt blocks/python/pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp_input" ]; then
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null; then
  echo "Python 3.10+ is needed for Dagster: install python3 and python3-venv (apt-get install -y python3 python3-venv)" >&2
  exit 1
fi
echo "setting up the Python environment for Dagster in $VENV ..."
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || {
  echo "could not create a virtualenv: install python3-venv (apt-get install -y python3-venv)" >&2
  exit 1
}
"$VENV/bin/pip" install -q --disable-pip-version-check -c blocks/python/constraints.txt -r blocks/python/requirements-dev.txt -e blocks/python
echo "$stamp_input" > "$VENV/.stamp"
