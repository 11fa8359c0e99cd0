import type { Config } from './config.ts';
import type { ToolGroup } from '../tools/tool.ts';

/** The MCP surface's settings from config: read-only mode, tool groups, and how many sessions live how long. */
export function mcpOptions(config: Config) {
  return {
    readOnly: config.MCP_READ_ONLY,
    maxSessionsPerPrincipal: config.MCP_MAX_SESSIONS_PER_PRINCIPAL,
    sessionIdleMs: config.MCP_SESSION_IDLE_SECONDS * 1000,
    ...(config.MCP_TOOL_GROUPS ? { groups: new Set(config.MCP_TOOL_GROUPS.split(',') as ToolGroup[]) } : {}),
  };
}
