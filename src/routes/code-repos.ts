import { createRoute, z } from '@hono/zod-openapi';
import type { Domain } from '../domain.ts';
import { createRouter, errorResponses, jsonResponse } from './router.ts';
import { iso } from './serialize.ts';

const listRoute = createRoute({
  method: 'get',
  path: '/v1/code-repos',
  summary: 'Code repositories your org compiled, with their block types',
  description: 'Each repository with its namespace and every version of its block types: the commit it came from, whether it is the latest, whether it is retired. Compile one with POST /dagster/compile/.',
  responses: {
    200: jsonResponse(
      z.object({
        repos: z.array(
          z.object({
            repo_url: z.string(),
            namespace: z.string(),
            created_at: z.string(),
            block_types: z.array(
              z.object({
                slug: z.string(),
                versions: z.array(z.object({ ref: z.string(), version: z.number().int(), commit: z.string().nullable(), latest: z.boolean(), retired: z.boolean() })),
              }),
            ),
          }),
        ),
      }).openapi('CodeRepoList'),
      'Repositories',
    ),
  },
});

const retireRoute = createRoute({
  method: 'post',
  path: '/v1/block-types/{ref}/retire',
  summary: 'Retire one version of a block type your org compiled',
  description: 'Search and "latest" skip it and a new pipeline version may not use it; pipelines that already pin it keep deploying and running until they are edited.',
  request: { params: z.object({ ref: z.string().openapi({ example: 'etl_blocks__greeting_rows@1' }) }) },
  responses: {
    200: jsonResponse(z.object({ ref: z.string(), retired: z.literal(true), latest: z.string().nullable().openapi({ description: 'The latest version not retired, if any' }) }), 'Retired'),
    400: errorResponses[400],
    404: errorResponses[404],
  },
});

export function codeRepoRoutes({ codeRepos }: Domain) {
  return createRouter()
    .openapi(listRoute, async (c) => {
      const repos = await codeRepos.list(c.var.principal);
      return c.json({ repos: repos.map((r) => ({ ...r, created_at: iso(r.created_at) })) }, 200);
    })
    .openapi(retireRoute, async (c) => c.json(await codeRepos.retire(c.var.principal, c.req.valid('param').ref), 200));
}
