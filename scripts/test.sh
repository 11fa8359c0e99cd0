#!/usr/bin/env bash
# The whole test suite: provision what it needs, run every test, print "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-test-deps.sh || exit 1

mkdir -p .test-results
rm -f .test-results/vitest.json .test-results/summary.txt
vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json
status=$?

node scripts/test-summary.ts | tee .test-results/summary.txt
exit $status
