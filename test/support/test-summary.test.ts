import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
// Reports written by vitest 5's JSON reporter for small sample files, trimmed to the fields read:
// a.test.ts has one failed and one passed test inside two nested describes; b.test.ts throws
// while loading; c.test.ts passes one test and skips one; d.test.ts's beforeAll throws.
const REPORTS = join(ROOT, 'test/fixtures/vitest-reports');
const PYTEST_XML = '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="20"></testsuite></testsuites>';

/**
 * The count line as `npm test` prints it, for a vitest report as the unit project's (and another
 * as the e2e project's, or none) beside the pytest report above.
 */
function countLine(report: string, e2eReport: string | null = 'mixed.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-summary-'));
  mkdirSync(join(dir, '.test-results'));
  copyFileSync(join(REPORTS, report), join(dir, '.test-results/vitest-unit.json'));
  if (e2eReport) copyFileSync(join(REPORTS, e2eReport), join(dir, '.test-results/vitest-e2e.json'));
  writeFileSync(join(dir, '.test-results/pytest.xml'), PYTEST_XML);
  return execFileSync(process.execPath, [join(ROOT, 'scripts/test-summary.ts')], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

// mixed.json, the e2e report unless a test says otherwise, counts 2 passed and 3 failed.
const E2E = { passed: 2, failed: 3 };

describe('the count line', () => {
  it('counts a failed test once, not again for its describe blocks and file', () => {
    // vitest's own numFailedTestSuites is 3 here (the file and two describes).
    expect(countLine('one-failed-test.json')).toBe(`${1 + E2E.passed + 14} passed, ${1 + E2E.failed + 3} failed`);
  });

  it('counts a file that fails to load, where no test ran, as one failure', () => {
    expect(countLine('load-failure.json')).toBe(`${0 + E2E.passed + 14} passed, ${1 + E2E.failed + 3} failed`);
  });

  it('over a mixed run: each failed test once, each file that failed with no failed test once', () => {
    // a: 1 failed, 1 passed; b: did not load; c: 1 passed, 1 skipped; d: beforeAll threw.
    expect(countLine('mixed.json')).toBe(`${2 + E2E.passed + 14} passed, ${3 + E2E.failed + 3} failed`);
  });

  it('sums both projects\' reports, and counts a project that wrote none as one failure', () => {
    expect(countLine('one-failed-test.json', null)).toBe(`${1 + 14} passed, ${1 + 1 + 3} failed`);
  });
});
