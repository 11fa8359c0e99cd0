import type { z } from 'zod';
import type { setTriggerState } from '../definitions/triggers.ts';
import type { ToolContext } from '../tool.ts';

export async function runSetTriggerState(input: z.infer<(typeof setTriggerState)['input']>, ctx: ToolContext) {
  return ctx.domain.triggers.set(ctx.principal, input.pipeline_id, input.state === 'paused', { environment: input.environment });
}
