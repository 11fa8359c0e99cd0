import type { Config } from './config.ts';
import type { ToolGroup } from '../tools/tool.ts';

/** The MCP surface's settings from config: read-only mode, tool groups, hosts /mcp answers to. */
export function mcpOptions(config: Config) {
  const hosts = config.MCP_ALLOWED_HOSTS.split(',').map((h) => h.trim()).filter(Boolean);
  if (config.HOST !== '0.0.0.0' && config.HOST !== '::' && !hosts.includes(config.HOST)) hosts.push(config.HOST);
  return {
    readOnly: config.MCP_READ_ONLY,
    ...(config.MCP_TOOL_GROUPS ? { groups: new Set(config.MCP_TOOL_GROUPS.split(',') as ToolGroup[]) } : {}),
    allowedHosts: hosts,
  };
}
