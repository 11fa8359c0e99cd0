import type { z } from 'zod';
import type { getBlockType, searchBlockTypes } from '../definitions/catalog.ts';
import type { ToolContext } from '../tool.ts';

type In<T extends { input: z.ZodObject }> = z.infer<T['input']>;

export async function runSearchBlockTypes(input: In<typeof searchBlockTypes>, ctx: ToolContext) {
  const { results, hint } = await ctx.services.catalog.search(ctx.principal, {
    ...(input.query ? { query: input.query } : {}),
    ...(input.category ? { category: input.category } : {}),
    ...(input.input_type ? { inputType: input.input_type } : {}),
    ...(input.output_type ? { outputType: input.output_type } : {}),
    limit: input.limit,
  });
  return { results: results.map((r) => ({ score: r.score, block_type: r.blockType })), ...(hint ? { hint } : {}) };
}

export async function runGetBlockType(input: In<typeof getBlockType>, ctx: ToolContext) {
  return { block_type: await ctx.services.catalog.require(ctx.principal, input.ref) };
}
