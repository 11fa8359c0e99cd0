// Sums the test runners' own reports into the one line CI reads: "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const vitest = '.test-results/vitest.json';
if (existsSync(vitest)) {
  const report = JSON.parse(readFileSync(vitest, 'utf8')) as { numPassedTests: number; numFailedTests: number; numFailedTestSuites: number };
  passed += report.numPassedTests;
  // A file that fails to load has no failed tests in it, but it failed all the same.
  failed += report.numFailedTests + report.numFailedTestSuites;
} else {
  failed += 1;
  console.error('vitest wrote no report');
}
console.log(`${passed} passed, ${failed} failed`);
