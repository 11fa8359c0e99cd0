import type { Issue } from '../../errors.ts';
import { idProblem } from '../ids.ts';
import type { PipelineSpec } from '../spec-schema.ts';

/**
 * Block, job, schedule and sensor ids become names in one generated Python module and in one
 * Dagster code location, so they must be valid identifiers and unique across all four kinds.
 */
export function checkIds(spec: PipelineSpec): Issue[] {
  const issues: Issue[] = [];
  const firstSeen = new Map<string, string>();
  const groups = [
    ['blocks', spec.blocks],
    ['jobs', spec.jobs],
    ['schedules', spec.schedules],
    ['sensors', spec.sensors],
  ] as const;
  for (const [kind, items] of groups) {
    items.forEach((item, i) => {
      const path = `/${kind}/${i}/id`;
      const problem = idProblem(item.id);
      if (problem) {
        issues.push({ code: 'invalid_id', path, message: `id "${item.id}" ${problem}`, hint: `Try "${suggestId(item.id)}".` });
        return;
      }
      const earlier = firstSeen.get(item.id);
      if (earlier) {
        issues.push({
          code: 'duplicate_id',
          path,
          message: `id "${item.id}" is already used at ${earlier}`,
          hint: `Ids must be unique across blocks, jobs, schedules and sensors; rename this one, e.g. "${item.id}_2".`,
        });
        return;
      }
      firstSeen.set(item.id, path);
    });
  }
  return issues;
}

function suggestId(id: string): string {
  const base = id.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^[^a-z]+/, '').replace(/_+$/, '').slice(0, 60);
  if (base === '') return 'my_block';
  return idProblem(base) ? `${base}_step` : base;
}
