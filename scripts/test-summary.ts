// Sums the test runners' own reports into the one line CI reads: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';
import { pytestCounts, vitestCounts, type Counts } from './test-counts.ts';

const total: Counts = { passed: 0, failed: 0 };
const add = (counts: Counts) => {
  total.passed += counts.passed;
  total.failed += counts.failed;
};
// One report per vitest project (scripts/test.sh runs each on its own): a missing one is a failure.
for (const project of ['unit', 'e2e']) {
  const vitest = `.test-results/vitest-${project}.json`;
  if (existsSync(vitest)) {
    add(vitestCounts(JSON.parse(readFileSync(vitest, 'utf8'))));
  } else {
    total.failed += 1;
    console.error(`vitest (${project}) wrote no report`);
  }
}
const pytest = '.test-results/pytest.xml';
if (existsSync(pytest)) {
  add(pytestCounts(readFileSync(pytest, 'utf8')));
} else {
  total.failed += 1;
  console.error('pytest wrote no report');
}
console.log(`${total.passed} passed, ${total.failed} failed`);
