import type { z } from 'zod';
import type { Principal } from '../src/auth/principal.ts';
import type { Caller, Surface } from '../src/dagster/policy.ts';
import type { Logger } from '../src/logger.ts';
import type { Domain } from '../src/domain.ts';

/** Groups a deployment can switch on or off (MCP_TOOL_GROUPS). */
export type ToolGroup = 'catalog' | 'pipelines' | 'deploy' | 'runs';

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a tool may use while it runs. Surfaces (MCP, chat) build it; tools never import them. */
export interface ToolContext {
  principal: Principal;
  /** The domain services, and nothing under them (see src/domain.ts). */
  domain: Domain;
  log: Logger;
  signal: AbortSignal;
  /** Who is calling: a model's tool call is subject to approval policies, a person's is not (see callerOf). */
  caller: Caller;
  /** Where the call came in (MCP or a chat turn), for the audit log. */
  surface: Extract<Surface, 'mcp' | 'chat'>;
  requestId?: string;
  /** A person agreed to this very call (MCP elicitation); set by runTool, never by a surface. */
  personApproved?: boolean;
  progress?: (done: number, total: number, message: string) => Promise<void>;
}

/**
 * A tool as data: everything a model, an MCP client or a test needs to know about it, with no
 * service running. Its behaviour lives apart, in the matching execute function.
 */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  group: ToolGroup;
  input: I;
  output: O;
  annotations: ToolAnnotations;
  /** Whether this call needs a person's yes before it runs (a boolean or a predicate on the input). */
  needsApproval: boolean | ((input: z.infer<I>, ctx: ToolContext) => boolean);
  /**
   * The domain service the tool calls holds the approval rule (so REST meets the same one, see
   * DeployService.request): runTool only asks the person directly, where the client can.
   */
  approvalInDomain?: boolean;
  /** Its result carries text written by users or by Dagster: fence it before a model reads it. */
  untrustedOutput: boolean;
}

export interface Tool<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> extends ToolDefinition<I, O> {
  execute(input: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
  /**
   * What must hold before a person is asked about a gated call (the pipeline or run it names
   * exists and is the caller's): a call that would fail anyway opens no approval request.
   */
  precheck?(input: z.infer<I>, ctx: ToolContext): Promise<void>;
}

export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
