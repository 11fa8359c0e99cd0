// How the test runners' own reports turn into the counts of the one line CI reads.

/** The parts of vitest's JSON report (`--reporter=json`) the count reads. */
export interface VitestReport {
  testResults: Array<{ name: string; status: string; message?: string; assertionResults: Array<{ status: string }> }>;
}

export interface Counts {
  passed: number;
  failed: number;
}

/**
 * Each test counts once. A file counts as one failure of its own only when it failed with no
 * failed test in it: it did not load, a hook threw, or it never finished. (vitest's
 * numFailedTestSuites counts every describe block and file around a failed test again.)
 */
export function vitestCounts(report: VitestReport): Counts {
  let passed = 0;
  let failed = 0;
  for (const file of report.testResults) {
    const failedTests = file.assertionResults.filter((t) => t.status === 'failed').length;
    passed += file.assertionResults.filter((t) => t.status === 'passed').length;
    failed += failedTests;
    if (file.status === 'failed' && failedTests === 0) failed += 1;
  }
  return { passed, failed };
}

/** JUnit XML as pytest writes it: <testsuite tests= failures= errors= skipped=>; skipped ones are neither. */
export function pytestCounts(xml: string): Counts {
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const count = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const bad = count('failures') + count('errors');
  return { passed: count('tests') - bad - count('skipped'), failed: bad };
}
