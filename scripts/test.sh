#!/usr/bin/env bash
# The whole test suite: provision what it needs, run every test, print "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-deps.sh || exit 1

mkdir -p .test-results
rm -f .test-results/vitest-*.json .test-results/pytest.xml .test-results/summary.txt

node scripts/build-web.ts || exit 1

# The block library's own tests (against their own throwaway PostgreSQL and ClickHouse) beside
# the unit project: each keeps about one core busy and leaves the other half idle (vmstat,
# 2026-12-03), so together they take about as long as the longer of the two. Pytest's output is
# shown once it is done, not interleaved.
(cd blocks/python && ../../.venv/bin/python -m pytest -q -p no:cacheprovider --junitxml=../../.test-results/pytest.xml) > .test-results/pytest.log 2>&1 &
pytest_pid=$!

# The two vitest projects one after the other, each with its own report. Run side by side (the
# end-to-end files in a process of their own) they took as long on this 2-core machine, 40
# minutes, since Dagster's processes keep both cores busy, and a backfill's runs then outlasted
# its test; measured 2026-12-02.
vitest run --project unit --reporter=default --reporter=json --outputFile.json=.test-results/vitest-unit.json
unit_status=$?
wait $pytest_pid
pytest_status=$?
echo "--- pytest (blocks/python), run beside the unit project:"
cat .test-results/pytest.log
vitest run --project e2e --reporter=default --reporter=json --outputFile.json=.test-results/vitest-e2e.json
e2e_status=$?

status=0
for s in $pytest_status $unit_status $e2e_status; do [ "$s" -ne 0 ] && status=$s; done

node scripts/test-summary.ts | tee .test-results/summary.txt
exit $status
