#!/usr/bin/env bash
# Writes the naming and partition-key rules of the pinned Dagster into the repo
# (src/pipelines/dagster-names.json), which validation reads; a test checks that the file still
# equals what the installed Dagster says. Run after changing the Dagster pin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/python-env.sh
.venv/bin/python scripts/dagster-names.py > src/pipelines/dagster-names.json
