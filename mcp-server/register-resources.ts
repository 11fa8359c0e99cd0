import { ResourceTemplate, type McpServer, type ReadResourceTemplateCallback } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Principal } from '../src/auth/principal.ts';
import { AppError } from '../src/errors.ts';
import { unstorableError } from '../src/input-guard.ts';
import type { Logger } from '../src/logger.ts';
import type { Domain } from '../src/domain.ts';
import { pipelineId } from '../tools/definitions/shared.ts';

type Variables = Record<string, string>;

/**
 * A template's read with its URI's variables decoded and checked (what the store cannot hold is
 * refused), and its failures answered as a client should see them: ours with their message and
 * hint, anything else as "failed on our side", logged, never the store's own text.
 */
function safeRead(logger: Logger, read: (uri: URL, vars: Variables) => ReturnType<ReadResourceTemplateCallback>): ReadResourceTemplateCallback {
  return async (uri, variables) => {
    const vars = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, decode(String(v))]));
    const refused = unstorableError(vars, `The URI ${uri.href}`, 'invalid:uri');
    try {
      if (refused) throw refused;
      return await read(uri, vars);
    } catch (error) {
      if (error instanceof AppError) throw new McpError(ErrorCode.InvalidParams, [error.message, error.hint].filter(Boolean).join(' '));
      logger.error({ err: error, uri: uri.href }, 'resource read failed unexpectedly');
      throw new McpError(ErrorCode.InternalError, `Reading ${uri.href} failed on our side; the service's log has the details.`);
    }
  };
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Block types and pipelines as resources a client can attach to a conversation, and a prompt
 * that starts a pipeline from a plain description.
 */
export function registerResources(mcp: McpServer, domain: Domain, principal: Principal, logger: Logger): void {
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
    safeRead(logger, async (uri, { ref }) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await domain.catalog.require(principal, ref!), null, 2) }],
    })),
  );

  mcp.registerResource(
    'pipeline',
    new ResourceTemplate('constellation://pipelines/{id}', {
      list: async () => ({
        resources: (await domain.pipelines.list(principal)).map((p) => ({ uri: `constellation://pipelines/${p.id}`, name: p.id, title: p.name, mimeType: 'application/json' })),
      }),
    }),
    { title: 'Pipeline', description: "A pipeline's current spec and version history", mimeType: 'application/json' },
    safeRead(logger, async (uri, { id }) => {
      if (!pipelineId.safeParse(id).success) {
        throw new AppError('invalid:uri', `"${id}" is not a pipeline id.`, { hint: 'Pipeline ids are UUIDs: list the resources (or call list_pipelines) to see them.' });
      }
      const view = await domain.pipelines.get(principal, id!);
      const body = { id: view.pipeline.id, name: view.pipeline.name, current_version: view.pipeline.current_version, spec: view.version.spec, versions: view.versions.map((v) => v.version) };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }] };
    }),
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
