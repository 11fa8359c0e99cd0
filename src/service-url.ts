import { readRunningService } from './auth/operator.ts';
import type { Config } from './config.ts';

/** Where a client on this machine reaches a service listening on host:port (a wildcard address is not one to connect to). */
export function localServiceUrl(host: string, port: number): string {
  const connect = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${connect}:${port}`;
}

/**
 * Where the stdio entry finds the running service's /mcp, the way the service itself is
 * configured, and how it knew (for its notice): MCP_SERVICE_URL when set; else the URL the service
 * holding DATA_DIR's store recorded in service.json (the port it really got, PORT=0 included);
 * else HOST and PORT, as a service started from the same environment would listen.
 */
export function findServiceMcpUrl(config: Pick<Config, 'MCP_SERVICE_URL' | 'DATA_DIR' | 'HOST' | 'PORT'>): { url: string; from: string } {
  if (config.MCP_SERVICE_URL) return { url: config.MCP_SERVICE_URL, from: 'MCP_SERVICE_URL' };
  const running = readRunningService(config.DATA_DIR);
  if (running) return { url: `${running.url}/mcp`, from: `the service (pid ${running.pid}) holding DATA_DIR=${config.DATA_DIR}` };
  return { url: `${localServiceUrl(config.HOST, config.PORT)}/mcp`, from: `HOST and PORT; no service holds DATA_DIR=${config.DATA_DIR}` };
}
