import { z } from '@hono/zod-openapi';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { createRouter } from './router.ts';

type Router = ReturnType<typeof createRouter>;

const MCP_SPEC = `https://modelcontextprotocol.io/specification/${LATEST_PROTOCOL_VERSION}/basic/transports#streamable-http`;

const jsonRpc = z
  .object({ jsonrpc: z.literal('2.0'), id: z.union([z.string(), z.number()]).optional(), method: z.string().optional(), params: z.record(z.string(), z.unknown()).optional() })
  .passthrough()
  .openapi('JsonRpcMessage', { description: 'A JSON-RPC 2.0 request, notification or response, as MCP frames it' });
const jsonRpcError = { content: { 'application/json': { schema: jsonRpc } } };
const sessionHeader = z.object({
  'mcp-session-id': z.string().optional().openapi({ description: 'The session initialize answered with (its Mcp-Session-Id response header); absent on initialize itself' }),
});

const MCP_DESCRIPTION = [
  'The MCP server: the same tools as the chat agent (search the catalog, propose, edit, validate, compile, deploy, run and watch pipelines), with resources and a prompt, ',
  `over MCP's Streamable HTTP transport ([specification](${MCP_SPEC})). Point an MCP client at this URL rather than calling it by hand: `,
  'POST `initialize` first (with `Accept: application/json, text/event-stream`); the answer carries an `Mcp-Session-Id` header that every later request sends. ',
  'Sessions live in the instance that opened them; an unknown session answers 404 and the client initializes again. ',
  'Authentication as for every route (a Bearer API key or JWT; in AUTH_MODE=local none is needed on loopback); a foreign Host or Origin gets 403 in JSON-RPC\'s shape.',
].join('');

/** /mcp, described for readers of the document; it is served by the MCP SDK's transport (app.ts), not by an OpenAPI route. */
function describeMcp(app: Router) {
  const common = { request: { headers: sessionHeader } };
  const refused = {
    400: { description: 'Not a JSON-RPC message, or no session where one is needed', ...jsonRpcError },
    401: { description: 'No valid credential (AUTH_MODE=required)' },
    403: { description: 'forbidden:host / forbidden:origin, in JSON-RPC\'s shape', ...jsonRpcError },
    404: { description: 'Unknown or expired session: initialize again', ...jsonRpcError },
  };
  app.openAPIRegistry.registerPath({
    ...common,
    method: 'post',
    path: '/mcp',
    summary: 'MCP: send a JSON-RPC message (initialize, tools/list, tools/call…)',
    description: MCP_DESCRIPTION,
    request: {
      ...common.request,
      body: {
        required: true,
        content: { 'application/json': { schema: jsonRpc, example: { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'docs', version: '1.0.0' } } } } },
      },
    },
    responses: {
      200: { description: 'The answer: one JSON-RPC response, or an SSE stream of messages ending with it', content: { 'application/json': { schema: jsonRpc }, 'text/event-stream': { schema: z.string() } } },
      202: { description: 'A notification or response was accepted' },
      ...refused,
    },
  });
  app.openAPIRegistry.registerPath({
    ...common,
    method: 'get',
    path: '/mcp',
    summary: "MCP: open the session's stream of server messages (SSE)",
    description: `Server-to-client messages of a session (progress, elicitation) as server-sent events. See [the transport](${MCP_SPEC}).`,
    responses: { 200: { description: 'An SSE stream', content: { 'text/event-stream': { schema: z.string() } } }, ...refused },
  });
  app.openAPIRegistry.registerPath({
    ...common,
    method: 'delete',
    path: '/mcp',
    summary: 'MCP: end a session',
    description: `Closes the session named by Mcp-Session-Id (clients do this when they disconnect). See [the transport](${MCP_SPEC}).`,
    responses: { 200: { description: 'The session is closed' }, ...refused },
  });
}

/**
 * GET /openapi.json. Its one server is relative ("/"): the document is served by the service it
 * describes, so whatever host and port a reader reached it on (PORT, HOST, a proxy) is the base
 * that /docs' "Test Request" sends to.
 */
export function serveOpenApiDocument(app: Router) {
  describeMcp(app);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (npm run key -- create) or a Supabase JWT. In AUTH_MODE=local (the default outside production) a request from loopback without one acts as the local user.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Constellation Agent',
      version: '0.1.0',
      description: 'Build, deploy and watch Dagster pipelines. Paths answer with and without a trailing slash. /docs renders this document.',
    },
    servers: [{ url: '/', description: 'This service' }],
    // A credential, or none where AUTH_MODE=local lets a request through without one.
    security: [{ bearer: [] }, {}],
  });
}
