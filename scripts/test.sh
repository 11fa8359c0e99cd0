#!/usr/bin/env bash
# The whole test suite: provision what it needs, run every test, print "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-deps.sh || exit 1

mkdir -p .test-results
rm -f .test-results/vitest.json .test-results/pytest.xml .test-results/summary.txt

# The block library's own tests, against their own throwaway PostgreSQL and ClickHouse.
(cd blocks/python && ../../.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=../../.test-results/pytest.xml)
pytest_status=$?

node scripts/build-web.ts || exit 1

vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json
status=$?
[ $status -eq 0 ] && status=$pytest_status

node scripts/test-summary.ts | tee .test-results/summary.txt
exit $status
