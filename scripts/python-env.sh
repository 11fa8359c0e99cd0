#!/usr/bin/env bash
# Creates .venv with the pinned Dagster and the block library (editable), once per change of the
# requirements: a stamp of their hash skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
# PYTHON_ENV_DIR moves it (the tests use it to watch this script with a stand-in Python).
VENV="${PYTHON_ENV_DIR:-.venv}"
stamp_input=$(cat blocks/python/requirements.txt blocks/python/requirements-dev.txt blocks/python/constraints.txt blocks/python/pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp_input" ]; then
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null; then
  echo "Python 3.10+ is needed for Dagster: install python3 and python3-venv (apt-get install -y python3 python3-venv)" >&2
  exit 1
fi
dagster_pin=$(grep -E '^dagster==' blocks/python/constraints.txt | head -n 1 || true)
echo "setting up the Python environment in $VENV: ${dagster_pin:-Dagster} and the block library's stack (once per change of blocks/python's requirements; a minute or more, about 1.4 GB)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || {
  echo "could not create a virtualenv: install python3-venv (apt-get install -y python3-venv)" >&2
  exit 1
}
"$VENV/bin/pip" install -q --disable-pip-version-check -c blocks/python/constraints.txt -r blocks/python/requirements-dev.txt -e blocks/python &
pip_pid=$!
# pip -q is silent for the whole install: say it is still at work, so nobody thinks it hangs.
every="${PYTHON_ENV_PROGRESS_SECONDS:-10}"
started=$SECONDS
while kill -0 "$pip_pid" 2>/dev/null; do
  for _ in $(seq "$every"); do kill -0 "$pip_pid" 2>/dev/null && sleep 1; done
  kill -0 "$pip_pid" 2>/dev/null && echo "  still installing Python packages... ($((SECONDS - started)) s)"
done
wait "$pip_pid" || { echo "pip could not install the Python environment (its error is above)" >&2; exit 1; }
echo "Python environment ready in $((SECONDS - started)) s"
echo "$stamp_input" > "$VENV/.stamp"
