import { isIPv4 } from 'node:net';
import { ConfigError, DEFAULT_ALLOWED_HOSTS, type Config } from './config.ts';

/**
 * Who can reach the service. With AUTH_MODE=local a request without credentials acts as the one
 * local principal, so an address beyond loopback would hand that principal (deploys to production
 * included) to anyone on the network. Binding one is refused, naming the way out, unless
 * UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH says the operator accepts it; then the answer is a warning to
 * print and log at start.
 */
export function checkListenAddress(config: Pick<Config, 'HOST' | 'UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH' | 'AUTH_MODE'>): { warning: string | null } {
  if (isLoopback(config.HOST) || config.AUTH_MODE === 'required') return { warning: null };
  const risk = `HOST=${config.HOST} listens beyond this machine, and with AUTH_MODE=local every request without a key acts as the one local user (deploys to production included).`;
  if (!config.UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH) {
    throw new ConfigError(
      `Refusing to start: ${risk}\n` +
        '  Listen on loopback (HOST=127.0.0.1, the default, or localhost or ::1) and reach it through an SSH tunnel or a proxy that authenticates,\n' +
        '  or set AUTH_MODE=required (API keys and JWTs only; issue keys with npm run key -- create),\n' +
        '  or set UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true to accept that anyone who can reach the port acts as you.',
    );
  }
  return { warning: `UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH=true: ${risk} Anyone who can reach the port acts as you.` };
}

/** 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIPv4(v4) && v4.split('.')[0] === '127';
}

/** Host names every route answers to: ALLOWED_HOSTS (or its alias MCP_ALLOWED_HOSTS), plus HOST when it names one address. */
export function allowedHosts(config: Pick<Config, 'HOST' | 'ALLOWED_HOSTS' | 'MCP_ALLOWED_HOSTS'>): string[] {
  const listed = config.ALLOWED_HOSTS ?? config.MCP_ALLOWED_HOSTS;
  const hosts = listed === undefined ? [...DEFAULT_ALLOWED_HOSTS] : listed.split(',').map((h) => h.trim()).filter(Boolean);
  if (config.HOST !== '0.0.0.0' && config.HOST !== '::' && !hosts.includes(config.HOST)) hosts.push(config.HOST);
  return hosts;
}
