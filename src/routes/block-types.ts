import { createRoute, z } from '@hono/zod-openapi';
import { CATEGORIES, PORT_TYPES } from '../catalog/manifest-schema.ts';
import type { Domain } from '../domain.ts';
import { createRouter, errorResponses, jsonResponse } from './router.ts';

const blockTypeSchema = z.object({}).passthrough().openapi('BlockType', {
  description: 'A catalog block type: slug, version, ref ("slug@version"), name, description, category, tags, typed inputs and outputs, config_schema (JSON Schema), secrets (names only), python callable',
});

const searchRoute = createRoute({
  method: 'get',
  path: '/v1/block-types',
  summary: 'Search the block catalog',
  description: 'Ranked search over name, description, tags and category; filters by category and port type. No q lists block types.',
  request: {
    query: z.object({
      q: z.string().max(200).optional().openapi({ example: 'postgres incremental' }),
      category: z.enum(CATEGORIES).optional(),
      input_type: z.enum(PORT_TYPES).optional(),
      output_type: z.enum(PORT_TYPES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
    }),
  },
  responses: {
    200: jsonResponse(
      z.object({
        results: z.array(z.object({ score: z.number(), block_type: blockTypeSchema })),
        hint: z.string().optional().openapi({ description: 'Set when nothing matched: what to try instead' }),
      }),
      'Matches, best first',
    ),
    400: errorResponses[400],
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/block-types/{ref}',
  summary: 'Get a block type by "slug" (latest) or "slug@version"',
  request: { params: z.object({ ref: z.string().openapi({ example: 'postgres_incremental_extract@1' }) }) },
  responses: { 200: jsonResponse(blockTypeSchema, 'The block type'), 404: errorResponses[404] },
});

export function blockTypeRoutes({ catalog }: Domain) {
  return createRouter()
    .openapi(searchRoute, async (c) => {
      const q = c.req.valid('query');
      const { results, hint } = await catalog.search(c.var.principal, {
        ...(q.q !== undefined ? { query: q.q } : {}),
        ...(q.category ? { category: q.category } : {}),
        ...(q.input_type ? { inputType: q.input_type } : {}),
        ...(q.output_type ? { outputType: q.output_type } : {}),
        limit: q.limit,
      });
      return c.json({ results: results.map((r) => ({ score: r.score, block_type: r.blockType })), ...(hint ? { hint } : {}) }, 200);
    })
    .openapi(getRoute, async (c) => c.json(await catalog.require(c.var.principal, c.req.valid('param').ref), 200));
}
