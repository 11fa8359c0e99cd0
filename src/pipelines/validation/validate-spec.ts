import { fromZodIssues } from '../../issues.ts';
import { pipelineSpecSchema, type PipelineSpec } from '../spec-schema.ts';
import { checkBlockRefs } from './check-block-refs.ts';
import { checkBlockTypes } from './check-blocks.ts';
import { checkContracts } from './check-contracts.ts';
import { checkGraph } from './check-graph.ts';
import { checkIds } from './check-ids.ts';
import { checkPorts } from './check-ports.ts';
import { checkTriggers } from './check-triggers.ts';
import { emptyFindings, type BlockTypeSource, type ValidationReport } from './report.ts';

export type { BlockTypeSource, ValidationReport } from './report.ts';

/**
 * Checks a spec and reports every problem at once (a model fixes them all in one edit instead of
 * one per round trip). A spec that does not even have the right shape reports only shape
 * problems, since the deeper checks would misread it.
 */
export async function validateSpec(
  input: unknown,
  source: BlockTypeSource,
): Promise<ValidationReport & { spec?: PipelineSpec }> {
  const parsed = pipelineSpecSchema.safeParse(input);
  if (!parsed.success) {
    return { valid: false, errors: fromZodIssues(parsed.error.issues), warnings: [] };
  }
  const spec = parsed.data;
  const findings = emptyFindings();
  findings.errors.push(...checkIds(spec));

  const indexOf = new Map<string, number>();
  spec.blocks.forEach((block, i) => {
    if (!indexOf.has(block.id)) indexOf.set(block.id, i);
  });
  const { typeOf, refs } = await checkBlockTypes(spec, source, findings);
  const input_ = { spec, typeOf, indexOf };
  checkPorts(input_, findings);
  checkContracts(input_, findings);
  checkGraph(input_, findings);
  checkTriggers(input_, findings);
  checkBlockRefs(refs, input_, findings);
  return { valid: findings.errors.length === 0, ...findings, spec };
}
