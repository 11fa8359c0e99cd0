/**
 * The Prometheus text format read back: each sample's name and labels (sorted, as one key such as
 * `constellation_tool_calls_total{outcome="ok",surface="mcp",tool="x"}`) and its value.
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(labels.length ? `${match[1]}{${labels.join(',')}}` : match[1]!, Number(match[3]));
  }
  return samples;
}

/** What changed between two reads, for the samples whose key starts with `prefix`: key → after − before (zero changes left out). */
export function movedBy(before: Map<string, number>, after: Map<string, number>, prefix: string): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [key, value] of after) {
    if (!key.startsWith(prefix)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) moved[key] = delta;
  }
  for (const key of before.keys()) if (key.startsWith(prefix) && !after.has(key)) moved[key] = -before.get(key)!;
  return moved;
}
