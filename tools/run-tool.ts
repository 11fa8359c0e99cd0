import { ApprovalRequiredError, type ApprovalRequests } from '../src/auth/approval-requests.ts';
import { AppError, toAppError, type Issue } from '../src/errors.ts';
import { unstorableError } from '../src/input-guard.ts';
import { fromZodIssues } from '../src/issues.ts';
import { normalizeArgs } from './normalize-args.ts';
import { toolAuditEntry } from './tool-audit.ts';
import type { Tool, ToolContext } from './tool.ts';
import { fenceUntrusted } from './untrusted.ts';

export interface ToolError {
  code: string;
  message: string;
  hint?: string;
  issues?: Issue[];
}

/**
 * What a surface shows for a tool call: the output, an error the model can act on, or an approval
 * request a person must answer (its id approves nothing by itself).
 */
export type ToolOutcome =
  | { kind: 'ok'; output: Record<string, unknown>; text: string }
  | { kind: 'error'; error: ToolError; text: string }
  | { kind: 'needs_approval'; approvalId: string; text: string };

export interface RunOptions {
  readOnly: boolean;
  approvals: ApprovalRequests;
  /** Asks the person directly (MCP elicitation) when the client can; true means they agreed. */
  confirm?: (message: string) => Promise<boolean>;
}

const MAX_ECHO = 600;

/**
 * Runs one tool call the same way for every surface: read-only gate, lenient argument parsing,
 * validation, approval, execution, output shaping. Every failure becomes a result that says what
 * was wrong, where, and how to fix it, echoing (truncated) what was sent.
 */
export async function runTool(tool: Tool, rawArgs: unknown, ctx: ToolContext, opts: RunOptions): Promise<ToolOutcome> {
  const outcome = await runUnaudited(tool, rawArgs, ctx, opts);
  ctx.domain.metrics.toolCall(tool.name, ctx.surface, outcome.kind);
  if (!tool.annotations.readOnlyHint) await ctx.domain.audit.record(toolAuditEntry(tool, rawArgs, ctx, outcome));
  return outcome;
}

async function runUnaudited(tool: Tool, rawArgs: unknown, ctx: ToolContext, opts: RunOptions): Promise<ToolOutcome> {
  const args = normalizeArgs(tool.input, rawArgs);
  // First, before anything walks the arguments (zod, the echo below): what the store cannot hold.
  const unstorable = unstorableError(args, `The arguments for ${tool.name}`, 'invalid:arguments');
  if (unstorable) return failure(unstorable, '(not repeated; the issues above say where)');
  if (opts.readOnly && !tool.annotations.readOnlyHint) {
    return failure(new AppError('forbidden:read_only', `This server is read-only: ${tool.name} changes things and is not available.`, { hint: 'Use the read-only tools, or ask an operator for a server without MCP_READ_ONLY.' }), rawArgs);
  }
  try {
    await ctx.domain.limits.take(ctx.principal, 'tool_call');
  } catch (error) {
    return failure(toAppError(error), rawArgs);
  }
  const parsed = tool.input.safeParse(args);
  if (!parsed.success) {
    return failure(new AppError('invalid:arguments', `The arguments for ${tool.name} are invalid.`, { hint: 'Fix each issue listed and call again.', issues: fromZodIssues(parsed.error.issues) }), rawArgs);
  }
  const input = parsed.data as Record<string, unknown>;

  const gated = typeof tool.needsApproval === 'function' ? tool.needsApproval(input as never, ctx) : tool.needsApproval && ctx.caller === 'model';
  if (gated && tool.precheck) {
    try {
      await tool.precheck(input as never, ctx);
    } catch (error) {
      return failure(toAppError(error), rawArgs);
    }
  }
  let personApproved = false;
  if (gated && opts.confirm) {
    // Asking can fail (no answer before the request times out, a client that errors): that is
    // not a no, and not a protocol failure either, so fall back to an approval request.
    const agreed = await opts.confirm(`${tool.title}: ${JSON.stringify(input)}. Go ahead?`).catch((error: unknown) => {
      ctx.log.warn({ err: error, tool: tool.name }, 'could not ask the user to confirm; opening an approval request');
      return undefined;
    });
    if (agreed === false) {
      return failure(new AppError('forbidden:declined', `The user declined ${tool.name}.`, { hint: 'Do not retry unless the user asks for it.' }), rawArgs);
    }
    personApproved = agreed === true;
  }

  let output: unknown;
  try {
    // A tool whose domain service holds the rule (a deploy: REST meets it too) asks there.
    if (gated && !personApproved && !tool.approvalInDomain) {
      await opts.approvals.pass({ principal: ctx.principal, surface: ctx.surface, action: tool.name, args: input, summary: { what: tool.title, tool: tool.name, args: input } });
    }
    output = await tool.execute(input as never, { ...ctx, personApproved });
  } catch (error) {
    if (error instanceof ApprovalRequiredError) return { kind: 'needs_approval', approvalId: error.approvalId, text: failure(error, rawArgs).text };
    // The same translation as REST's and the chat turn's: one failure reads the same everywhere.
    const appError = toAppError(error);
    if (appError.kind === 'internal') ctx.log.error({ err: error, tool: tool.name }, 'tool failed unexpectedly');
    return failure(appError, rawArgs);
  }
  const shaped = tool.output.safeParse(output);
  if (!shaped.success) ctx.log.error({ tool: tool.name, issues: shaped.error.issues }, 'tool output does not match its schema');
  const result = (shaped.success ? shaped.data : output) as Record<string, unknown>;
  // Compact: models read it as well, and every byte is paid for twice (text and structuredContent).
  const json = JSON.stringify(result);
  return { kind: 'ok', output: result, text: tool.untrustedOutput ? fenceUntrusted(json) : json };
}

function failure(error: AppError, sent: unknown): ToolOutcome {
  const body: ToolError = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}), ...(error.issues.length ? { issues: error.issues } : {}) };
  const echo = JSON.stringify(sent) ?? 'nothing';
  const lines = [
    `Error ${error.code}: ${error.message}`,
    ...error.issues.map((i) => `- ${i.path || '/'}: ${i.message}${i.hint ? ` (${i.hint})` : ''}`),
    ...(error.hint ? [`Hint: ${error.hint}`] : []),
    `You sent: ${echo.length > MAX_ECHO ? `${echo.slice(0, MAX_ECHO)}… (truncated)` : echo}`,
  ];
  return { kind: 'error', error: body, text: lines.join('\n') };
}
