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
const pytest = '.test-results/pytest.xml';
if (existsSync(pytest)) {
  // JUnit XML: <testsuite tests= failures= errors= skipped=>; skipped ones are neither.
  const suite = /<testsuite\b[^>]*>/.exec(readFileSync(pytest, 'utf8'))?.[0] ?? '';
  const count = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const bad = count('failures') + count('errors');
  passed += count('tests') - bad - count('skipped');
  failed += bad;
} else {
  failed += 1;
  console.error('pytest wrote no report');
}
console.log(`${passed} passed, ${failed} failed`);
