import { KIND_SUFFIX } from '../../compile/naming.ts';
import type { Issue } from '../../errors.ts';
import { idProblem, uniqueId, usableId } from '../ids.ts';
import type { PipelineSpec } from '../spec-schema.ts';

/**
 * Block, job, schedule and sensor ids become Dagster names in one namespace per pipeline, so they
 * must be valid identifiers, names Dagster accepts, and unique across all four kinds.
 */
export function checkIds(spec: PipelineSpec): Issue[] {
  const issues: Issue[] = [];
  const firstSeen = new Map<string, string>();
  const taken = new Set([...spec.blocks, ...spec.jobs, ...spec.schedules, ...spec.sensors].map((x) => x.id));
  for (const kind of ['blocks', 'jobs', 'schedules', 'sensors'] as const) {
    spec[kind].forEach((item, i) => {
      const path = `/${kind}/${i}/id`;
      const problem = idProblem(item.id);
      if (problem) {
        const suggestion = uniqueId(usableId(item.id, KIND_SUFFIX[kind]), new Set(taken));
        issues.push({ code: 'invalid_id', path, message: `id "${item.id}" ${problem}`, hint: `Try "${suggestion}".` });
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
