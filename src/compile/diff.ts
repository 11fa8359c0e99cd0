/**
 * A unified-style line diff (longest common subsequence), enough to show a model or a person what
 * a new version changes in a code location. Files here are small (a few hundred lines).
 */
export function lineDiff(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`+${b[j++]}`);
    } else {
      out.push(`-${a[i++]}`);
    }
  }
  return out.join('\n');
}

/** Per file: added, removed, or the changed lines; unchanged files are left out. */
export function filesDiff(before: Record<string, string>, after: Record<string, string>): Record<string, string> {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const diff: Record<string, string> = {};
  for (const name of names) {
    if (before[name] === after[name]) continue;
    diff[name] = before[name] === undefined ? '(new file)' : after[name] === undefined ? '(removed)' : lineDiff(before[name]!, after[name]!);
  }
  return diff;
}
