#!/usr/bin/env bash
# Rewrites blocks/python/constraints.txt from a fresh virtualenv holding what the requirements ask
# for, so that the whole Python stack (transitive packages too) is pinned in one file.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${PYTHON:-python3}" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --disable-pip-version-check -r blocks/python/requirements-dev.txt
{
  echo "# Every Python package of the stack, transitive ones too, at the version the tests ran: pip installs"
  echo "# requirements*.txt with -c constraints.txt. Regenerate with scripts/python-constraints.sh after changing requirements."
  "$tmp/venv/bin/pip" freeze --exclude-editable
} > blocks/python/constraints.txt
