/** One row of the benchmark table: a figure beside the baseline it was measured against. */
export interface Row {
  measure: string;
  value: number;
  baseline: string;
  baselineValue: number;
  /** "faster": baseline / value; "times": value / baseline; "fraction": value / baseline as a percentage; "difference": value - baseline. */
  ratio: 'faster' | 'times' | 'fraction' | 'difference';
  target: string;
  /** What value and baselineValue count: milliseconds (the default), requests per second, kilobytes, megabytes or things counted. */
  unit?: 'ms' | 'rps' | 'KB' | 'MB' | 'count';
}

export async function time(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export const quantile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Runs `a` and `b` alternately `rounds` times, so machine noise falls on both alike. */
export async function sideBySide(rounds: number, a: () => unknown, b: () => unknown): Promise<[number[], number[]]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await time(a));
    bs.push(await time(b));
  }
  return [as, bs];
}

export function printTable(rows: Row[]): string {
  const ms = (v: number) => (v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(3)} ms`);
  const fmt = (r: Row, v: number) => (r.unit === 'rps' ? `${v.toFixed(0)} rps` : r.unit === 'KB' ? `${v.toFixed(1)} KB` : r.unit === 'MB' ? `${v.toFixed(0)} MB` : r.unit === 'count' ? v.toFixed(0) : ms(v));
  const ratio = (r: Row) =>
    r.ratio === 'faster'
      ? `${(r.baselineValue / r.value).toFixed(1)}x faster`
      : r.ratio === 'fraction'
        ? `${((100 * r.value) / r.baselineValue).toFixed(0)}%`
        : r.ratio === 'difference'
          ? `${r.value >= r.baselineValue ? '+' : '-'}${fmt(r, Math.abs(r.value - r.baselineValue))}`
          : `${(r.value / r.baselineValue).toFixed(2)}x`;
  const cells = rows.map((r) => [r.measure, fmt(r, r.value), r.baseline, fmt(r, r.baselineValue), ratio(r), r.target]);
  const header = ['measure', 'value', 'baseline (same run)', 'baseline value', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
