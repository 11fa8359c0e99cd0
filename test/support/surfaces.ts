import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { LOCAL_PRINCIPAL, type Principal } from '../../src/auth/principal.ts';
import { createLogger } from '../../src/logger.ts';
import { sendTurn, toolParts, user } from '../chat/helpers.ts';
import type { ScriptedLlm } from './scripted-llm.ts';
import type { TestApp } from './test-app.ts';

/** An error as a caller sees it, whatever the surface. */
export interface SeenError {
  code: string;
  message: string;
  hint?: string;
}

/** A tool error's text ("Error <code>: <message>" … "Hint: <hint>"), as MCP clients and models read it. */
export function parseToolError(text: string): SeenError {
  const lines = text.split('\n');
  const head = /^Error (\S+): (.*)$/.exec(lines[0] ?? '');
  if (!head) throw new Error(`not a tool error: ${text}`);
  const hint = lines.find((l) => l.startsWith('Hint: '))?.slice('Hint: '.length);
  return { code: head[1]!, message: head[2]!, ...(hint ? { hint } : {}) };
}

/** The error a REST call answered, with its status. */
export async function restError(t: TestApp, method: string, path: string, body?: unknown): Promise<SeenError & { status: number }> {
  const res = await t.call(method, path, body);
  if (res.status < 400) throw new Error(`${method} ${path} succeeded: ${JSON.stringify(res.body)}`);
  const { code, message, hint } = res.body.error;
  return { status: res.status, code, message, ...(hint ? { hint } : {}) };
}

/** A real MCP client over the SDK's in-memory transport, to a fresh server over the app's domain, acting for `principal`. */
export async function mcpClient(t: TestApp, principal: Principal = LOCAL_PRINCIPAL): Promise<{ client: Client; close(): Promise<void> }> {
  const server = createMcpServer({ domain: t.services.domain, logger: createLogger('silent'), approvals: t.services.approvals, readOnly: false }, principal);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'surfaces-test', version: '1.0.0' });
  await client.connect(clientSide);
  await client.listTools();
  return {
    client,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

/** The structured result of an MCP tool call that must succeed (an isError answer fails the test with its text). */
export async function mcpToolResult(client: Client, name: string, args: Record<string, unknown>): Promise<any> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult & { structuredContent?: any };
  expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
  return result.structuredContent;
}

/** The error an MCP tool call answered (isError), and its whole text. */
export async function mcpToolError(client: Client, name: string, args: Record<string, unknown>): Promise<SeenError & { text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
  if (!result.isError) throw new Error(`${name} succeeded over MCP: ${text}`);
  return { ...parseToolError(text), text };
}

/**
 * The error a chat turn showed for a tool call the (scripted) model made, read with the `ai`
 * package's own reader, and its whole text.
 */
export async function chatToolError(t: TestApp, llm: ScriptedLlm, chatId: string, name: string, args: Record<string, unknown>, headers?: Record<string, string>): Promise<SeenError & { text: string }> {
  llm.script([{ toolCalls: [{ name, arguments: JSON.stringify(args), id: `call_${chatId}` }] }, { text: 'Reported.' }]);
  const turn = await sendTurn(t, chatId, [user(`${chatId}-u1`, `please ${name}`)], undefined, headers);
  if (turn.error) throw turn.error;
  const part = toolParts(turn.message).find((p) => p.toolCallId === `call_${chatId}`);
  if (part?.state !== 'output-error') throw new Error(`${name} did not fail in chat: ${JSON.stringify(part)}`);
  return { ...parseToolError(part.errorText as string), text: part.errorText as string };
}
