import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestParamsSchema, CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ApprovalRequests } from '../src/auth/approval-requests.ts';
import type { Principal } from '../src/auth/principal.ts';
import type { Logger } from '../src/logger.ts';
import type { Domain } from '../src/domain.ts';
import { inputJsonSchema, outputJsonSchema } from '../tools/json-schema.ts';
import { runTool } from '../tools/run-tool.ts';
import type { Tool } from '../tools/tool.ts';

export interface ToolRegistration {
  tools: Tool[];
  domain: Domain;
  principal: Principal;
  logger: Logger;
  readOnly: boolean;
  approvals: ApprovalRequests;
}

/**
 * tools/call with `arguments` left for the SDK's own tools/call check to judge. Registered with
 * the SDK's schema, a non-object there failed its parse first and went out as an internal error
 * (-32603) with a zod dump; this way the SDK's check answers it as invalid params (-32602).
 */
const CallToolRequestAnyArguments = CallToolRequestSchema.extend({
  params: CallToolRequestParamsSchema.extend({ arguments: z.unknown().optional() }),
});

/**
 * tools/list and tools/call on the low-level server: our zod schemas go out as JSON Schema with
 * output schemas and annotations, and calls go through the shared tool runner (lenient argument
 * parsing, approval, errors a model can act on). A read-only server does not list what it will
 * not run, and refuses it if called anyway.
 */
export function registerTools(mcp: McpServer, reg: ToolRegistration): void {
  const server = mcp.server;
  const listed = reg.tools.filter((t) => !reg.readOnly || t.annotations.readOnlyHint);
  const schemas = new Map(listed.map((t) => [t.name, { inputSchema: inputJsonSchema(t), outputSchema: outputJsonSchema(t) }]));
  server.registerCapabilities({ tools: { listChanged: false } });

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: listed.map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: schemas.get(t.name)!.inputSchema as { type: 'object' },
      outputSchema: schemas.get(t.name)!.outputSchema as { type: 'object' },
      annotations: { title: t.title, ...t.annotations },
    })),
  }));

  server.setRequestHandler(CallToolRequestAnyArguments, async (request, extra): Promise<CallToolResult> => {
    const tool = reg.tools.find((t) => t.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const progressToken = request.params._meta?.progressToken;
    // We ask with a form; a client that declares only URL elicitation gets a token instead.
    const canElicit = !!server.getClientCapabilities()?.elicitation?.form;
    const outcome = await runTool(
      tool,
      request.params.arguments,
      {
        principal: reg.principal,
        domain: reg.domain,
        log: reg.logger.child({ tool: tool.name, mcp_session: extra.sessionId }),
        signal: extra.signal,
        caller: 'model',
        surface: 'mcp',
        requestId: `mcp:${extra.sessionId ?? 'stateless'}:${String(extra.requestId)}`,
        ...(progressToken !== undefined
          ? { progress: (progress: number, total: number, message: string) => extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } }) }
          : {}),
      },
      {
        readOnly: reg.readOnly,
        approvals: reg.approvals,
        ...(canElicit
          ? {
              confirm: async (message: string) => {
                const answer = await server.elicitInput({
                  message,
                  requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Go ahead?' } }, required: ['confirm'] },
                });
                return answer.action === 'accept' && answer.content?.confirm === true;
              },
            }
          : {}),
      },
    );
    if (outcome.kind === 'ok') return { content: [{ type: 'text', text: outcome.text }], structuredContent: outcome.output };
    // An error, or a question for the user: either way the model reads it and acts.
    return { content: [{ type: 'text', text: outcome.text }], isError: true };
  });
}
