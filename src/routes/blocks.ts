import { createRoute, z } from '@hono/zod-openapi';
import type { Domain } from '../domain.ts';
import { STORE_INT_MAX } from '../input-guard.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, uuidParam } from './router.ts';
import { blockResponse, edgeResponse } from './serialize.ts';
import { EXAMPLE_BLOCK } from './examples.ts';

const config = z.record(z.string(), z.unknown()).openapi({ description: "Settings checked against the block type's config_schema" });

export const blockSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    block_type: z.string().openapi({ example: 'postgres_incremental_extract@1' }),
    config,
    owner_id: z.uuid(),
    org_id: z.uuid(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Block');

export const edgeSchema = z
  .object({
    id: z.uuid(),
    source_block_id: z.uuid(),
    source_port: z.string(),
    target_block_id: z.uuid(),
    target_port: z.string(),
    owner_id: z.uuid(),
    org_id: z.uuid(),
    created_at: z.string(),
  })
  .openapi('Edge');

const createBlock = createRoute({
  method: 'post',
  path: '/v1/blocks',
  summary: 'Place a block from a block type',
  request: jsonBody(
    z
      .object({
        name: z.string().min(1).max(200),
        block_type: z.string().min(1).openapi({ description: '"slug" (latest version) or "slug@version"', example: 'postgres_incremental_extract@1' }),
        config: config.default({}),
      })
      .strict(),
    'The block to place',
    EXAMPLE_BLOCK,
  ),
  responses: { 201: jsonResponse(blockSchema, 'The new block'), ...errorResponses },
});

const listBlocks = createRoute({
  method: 'get',
  path: '/v1/blocks',
  summary: 'List your blocks',
  request: {
    query: z.object({
      block_type: z.string().optional().openapi({ description: 'Only blocks of this type slug' }),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      offset: z.coerce.number().int().min(0).max(STORE_INT_MAX).default(0),
    }),
  },
  responses: { 200: jsonResponse(z.object({ blocks: z.array(blockSchema) }), 'Blocks, oldest first'), 400: errorResponses[400] },
});

const getBlock = createRoute({
  method: 'get',
  path: '/v1/blocks/{id}',
  summary: 'Get a block',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(blockSchema, 'The block'), ...errorResponses },
});

const updateBlock = createRoute({
  method: 'patch',
  path: '/v1/blocks/{id}',
  summary: "Rename a block or replace its config",
  request: {
    params: uuidParam('id'),
    ...jsonBody(z.object({ name: z.string().min(1).max(200).optional(), config: config.optional() }).strict(), 'Fields to change'),
  },
  responses: { 200: jsonResponse(blockSchema, 'The updated block'), ...errorResponses },
});

const deleteBlock = createRoute({
  method: 'delete',
  path: '/v1/blocks/{id}',
  summary: 'Delete a block and its edges',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), 'Deleted'), ...errorResponses },
});

const createEdge = createRoute({
  method: 'post',
  path: '/v1/edges',
  summary: "Connect one block's output port to another's input port",
  request: jsonBody(
    z
      .object({
        source_block_id: z.uuid(),
        source_port: z.string().min(1).openapi({ example: 'rows' }),
        target_block_id: z.uuid(),
        target_port: z.string().min(1).openapi({ example: 'rows' }),
      })
      .strict(),
    'The edge',
  ),
  responses: { 201: jsonResponse(edgeSchema, 'The new edge'), ...errorResponses },
});

const listEdges = createRoute({
  method: 'get',
  path: '/v1/edges',
  summary: 'List edges, optionally those touching one block',
  request: { query: z.object({ block_id: z.uuid().optional() }) },
  responses: { 200: jsonResponse(z.object({ edges: z.array(edgeSchema) }), 'Edges'), 400: errorResponses[400] },
});

const getEdge = createRoute({
  method: 'get',
  path: '/v1/edges/{id}',
  summary: 'Get an edge',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(edgeSchema, 'The edge'), ...errorResponses },
});

const deleteEdge = createRoute({
  method: 'delete',
  path: '/v1/edges/{id}',
  summary: 'Delete an edge',
  request: { params: uuidParam('id') },
  responses: { 200: jsonResponse(z.object({ message: z.string() }), 'Deleted'), ...errorResponses },
});

export function blockRoutes({ blocks }: Domain) {
  return createRouter()
    .openapi(createBlock, async (c) => c.json(blockResponse(await blocks.create(c.var.principal, c.req.valid('json'))), 201))
    .openapi(listBlocks, async (c) => {
      const q = c.req.valid('query');
      const rows = await blocks.list(c.var.principal, { ...(q.block_type ? { blockType: q.block_type } : {}), limit: q.limit, offset: q.offset });
      return c.json({ blocks: rows.map(blockResponse) }, 200);
    })
    .openapi(getBlock, async (c) => c.json(blockResponse(await blocks.get(c.var.principal, c.req.valid('param').id)), 200))
    .openapi(updateBlock, async (c) => {
      const body = c.req.valid('json');
      const changes = { ...(body.name !== undefined ? { name: body.name } : {}), ...(body.config !== undefined ? { config: body.config } : {}) };
      return c.json(blockResponse(await blocks.update(c.var.principal, c.req.valid('param').id, changes)), 200);
    })
    .openapi(deleteBlock, async (c) => {
      await blocks.delete(c.var.principal, c.req.valid('param').id);
      return c.json({ message: 'Block deleted successfully.' }, 200);
    })
    .openapi(createEdge, async (c) => c.json(edgeResponse(await blocks.connect(c.var.principal, c.req.valid('json'))), 201))
    .openapi(listEdges, async (c) => c.json({ edges: (await blocks.listEdges(c.var.principal, c.req.valid('query').block_id)).map(edgeResponse) }, 200))
    .openapi(getEdge, async (c) => c.json(edgeResponse(await blocks.getEdge(c.var.principal, c.req.valid('param').id)), 200))
    .openapi(deleteEdge, async (c) => {
      await blocks.disconnect(c.var.principal, c.req.valid('param').id);
      return c.json({ message: 'Edge deleted successfully.' }, 200);
    });
}
