import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Principal } from '../src/auth/principal.ts';
import type { Domain } from '../src/domain.ts';

/**
 * Block types and pipelines as resources a client can attach to a conversation, and a prompt
 * that starts a pipeline from a plain description.
 */
export function registerResources(mcp: McpServer, domain: Domain, principal: Principal): void {
  mcp.registerResource(
    'block-type',
    new ResourceTemplate('constellation://block-types/{ref}', {
      list: async () => ({
        resources: (await domain.catalog.search(principal, { limit: 100 })).results.map(({ blockType }) => ({
          uri: `constellation://block-types/${blockType.ref}`,
          name: blockType.ref,
          title: blockType.name,
          description: blockType.description,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'Block type', description: 'A catalog block type: config schema, ports, secrets', mimeType: 'application/json' },
    async (uri, { ref }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await domain.catalog.require(principal, String(ref)), null, 2) }],
    }),
  );

  mcp.registerResource(
    'pipeline',
    new ResourceTemplate('constellation://pipelines/{id}', {
      list: async () => ({
        resources: (await domain.pipelines.list(principal)).map((p) => ({ uri: `constellation://pipelines/${p.id}`, name: p.id, title: p.name, mimeType: 'application/json' })),
      }),
    }),
    { title: 'Pipeline', description: "A pipeline's current spec and version history", mimeType: 'application/json' },
    async (uri, { id }) => {
      const view = await domain.pipelines.get(principal, String(id));
      const body = { id: view.pipeline.id, name: view.pipeline.name, current_version: view.pipeline.current_version, spec: view.version.spec, versions: view.versions.map((v) => v.version) };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    },
  );

  mcp.registerPrompt(
    'build_pipeline',
    {
      title: 'Build a pipeline from a description',
      description: 'Turn a plain-language request ("every 6 hours copy new and changed customers from Postgres into ClickHouse") into a validated, deployed pipeline.',
      argsSchema: { description: z.string().describe('What the pipeline should do, in plain words'), environment: z.string().optional().describe('Where to deploy it') },
    },
    ({ description, environment }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `Build a Dagster pipeline that does this: ${description}`,
              'Work in this order: search_block_types for the blocks it needs; get_block_type for each to read its config schema;',
              'validate_pipeline with a full spec and fix every reported issue; propose_pipeline to save it;',
              `compile_pipeline to show the generated code; deploy_pipeline as a dry run to ${environment ?? 'the right environment'} and show the preview;`,
              'deploy for real only when I agree; then launch_run and report pipeline_status.',
            ].join(' '),
          },
        },
      ],
    }),
  );
}
