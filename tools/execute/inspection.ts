import type { z } from 'zod';
import type { inspectSource } from '../definitions/inspection.ts';
import type { ToolContext } from '../tool.ts';

export async function runInspectSource(input: z.infer<(typeof inspectSource)['input']>, ctx: ToolContext) {
  const { environment, ...request } = input;
  return ctx.domain.inspection.inspect(ctx.principal, environment, { ...request, requestId: ctx.requestId });
}
