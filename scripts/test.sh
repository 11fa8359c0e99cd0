#!/usr/bin/env bash
# The whole test suite: provision what it needs, run every test, print "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-deps.sh || exit 1

mkdir -p .test-results
rm -f .test-results/vitest-*.json .test-results/e2e.log .test-results/pytest.xml .test-results/summary.txt

node scripts/build-web.ts || exit 1

# The end-to-end files (real Dagster, one file at a time) run beside everything else: they spend
# most of their time waiting on Dagster's processes, and one after the other the whole suite took
# 40 minutes here. Two vitest processes, because one process runs a project with one worker after
# the other projects' files, never beside them (vitest's groupSpecs), and on 2 cores the default
# is one worker anyway. Its output is shown once it is done, so that the two do not interleave.
vitest run --project e2e --reporter=default --reporter=json --outputFile.json=.test-results/vitest-e2e.json > .test-results/e2e.log 2>&1 &
e2e_pid=$!
# Interrupted, the end-to-end run stops too (its servers stop with it: test/support/server-processes.ts).
trap 'kill "$e2e_pid" 2>/dev/null' INT TERM

# The block library's own tests, against their own throwaway PostgreSQL and ClickHouse.
(cd blocks/python && ../../.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=../../.test-results/pytest.xml)
pytest_status=$?

vitest run --project unit --reporter=default --reporter=json --outputFile.json=.test-results/vitest-unit.json
unit_status=$?

wait $e2e_pid
e2e_status=$?
echo "--- end-to-end tests (run beside the above) ---"
cat .test-results/e2e.log

status=0
for s in $pytest_status $unit_status $e2e_status; do [ "$s" -ne 0 ] && status=$s; done

node scripts/test-summary.ts | tee .test-results/summary.txt
exit $status
