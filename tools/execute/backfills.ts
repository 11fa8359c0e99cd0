import type { z } from 'zod';
import type { backfillPipeline } from '../definitions/backfills.ts';
import type { ToolContext } from '../tool.ts';

export async function runBackfillPipeline(input: z.infer<(typeof backfillPipeline)['input']>, ctx: ToolContext) {
  return ctx.domain.backfills.start(ctx.principal, input.pipeline_id, {
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
    ...(input.partitions ? { partitions: input.partitions } : {}),
    ...(input.environment ? { environment: input.environment } : {}),
    ...(input.job ? { job: input.job } : {}),
    ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
  });
}
