import type { Config } from './config.ts';
import type { ToolGroup } from '../tools/tool.ts';

/** The MCP surface's settings from config: read-only mode and tool groups. */
export function mcpOptions(config: Config) {
  return {
    readOnly: config.MCP_READ_ONLY,
    ...(config.MCP_TOOL_GROUPS ? { groups: new Set(config.MCP_TOOL_GROUPS.split(',') as ToolGroup[]) } : {}),
  };
}
