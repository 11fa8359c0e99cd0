import type { AuditEntry } from '../src/auth/audit-log.ts';
import { toolProvenance } from '../src/auth/audit-log.ts';
import type { ToolOutcome } from './run-tool.ts';
import type { Tool, ToolContext } from './tool.ts';

/** The arguments that say what a call acts on (ids, environment, version, partition, a trigger's state), not what it sends. */
const TARGET_KEY = /(^|_)id$|^environment$|^version$|^partition$|^state$/;

/** What the audit log keeps of a tool call that may change something. */
export function toolAuditEntry(tool: Tool, rawArgs: unknown, ctx: ToolContext, outcome: ToolOutcome): AuditEntry {
  const args = rawArgs && typeof rawArgs === 'object' && !Array.isArray(rawArgs) ? (rawArgs as Record<string, unknown>) : {};
  const target = Object.fromEntries(
    Object.entries(args).filter(([key, value]) => TARGET_KEY.test(key) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') && String(value).length <= 200),
  );
  return {
    principal: ctx.principal,
    actor: ctx.caller === 'model' ? 'agent' : 'person',
    surface: ctx.surface,
    action: tool.name,
    target,
    outcome: outcome.kind === 'error' ? outcome.error.code : outcome.kind,
    provenance: toolProvenance(ctx.surface, ctx.requestId),
  };
}
