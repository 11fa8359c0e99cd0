import type { z } from 'zod';
import type { getBlockType, searchBlockTypes } from '../definitions/catalog.ts';
import type { ToolContext } from '../tool.ts';

type In<T extends { input: z.ZodObject }> = z.infer<T['input']>;

export async function runSearchBlockTypes(input: In<typeof searchBlockTypes>, ctx: ToolContext) {
  const { results, hint } = await ctx.domain.catalog.search(ctx.principal, {
    ...(input.query ? { query: input.query } : {}),
    ...(input.category ? { category: input.category } : {}),
    ...(input.input_type ? { inputType: input.input_type } : {}),
    ...(input.output_type ? { outputType: input.output_type } : {}),
    limit: input.limit,
  });
  // A compact card per result, enough to choose; get_block_type has the rest (config schema, port
  // and secret descriptions). Smaller results cost less on every call and in the model's context.
  return {
    results: results.map(({ score, blockType: b }) => ({
      score,
      block_type: {
        ref: b.ref,
        name: b.name,
        description: b.description,
        category: b.category,
        tags: b.tags,
        inputs: b.inputs.map((p) => ({ name: p.name, type: p.type, required: p.required, multiple: p.multiple })),
        outputs: b.outputs.map((p) => ({ name: p.name, type: p.type })),
        secrets: b.secrets.map((x) => ({ name: x.name })),
      },
    })),
    ...(hint ? { hint } : {}),
  };
}

export async function runGetBlockType(input: In<typeof getBlockType>, ctx: ToolContext) {
  return { block_type: await ctx.domain.catalog.require(ctx.principal, input.ref) };
}
