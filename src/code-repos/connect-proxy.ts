import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { resolveHost, type Lookup } from './resolve-host.ts';

export interface ConnectProxyOptions {
  /** Ports a tunnel may reach. */
  allowedPorts: readonly number[];
  /** Exact host names a tunnel may name (after a redirect too); null: any. */
  allowedHosts: readonly string[] | null;
  /** Bytes the far side may send through all tunnels together before they are cut. */
  maxBytes: number;
  lookup?: Lookup;
  /** Why an address is refused; tests of the tunnel itself pass a check that lets loopback through. */
  forbidden?: (address: string) => string | null;
}

export interface ConnectProxy {
  /** http://127.0.0.1:<port>, for git's http.proxy. */
  url: string;
  port: number;
  /** Every tunnel refused, in words a caller may see ("localhost:443: localhost resolves to 127.0.0.1, a loopback address"). */
  refusals: string[];
  /** Targets whose address was allowed but did not answer ("github.com:443 (140.82.112.3)"). */
  unreachable: string[];
  /** True once a tunnel was cut for bringing more than maxBytes. */
  readonly oversize: boolean;
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy on loopback that every https clone goes through. It resolves each target
 * itself, refuses forbidden addresses and ports, and connects to exactly the address it checked:
 * checking a name before git runs is not enough, because git (curl) resolves it again (DNS
 * rebinding) and follows redirects to hosts we never saw. Plain-HTTP proxy requests are refused:
 * git is only ever given https URLs, so one would mean a redirect to http://.
 */
export async function startConnectProxy(opts: ConnectProxyOptions): Promise<ConnectProxy> {
  const refusals: string[] = [];
  const unreachable: string[] = [];
  const sockets = new Set<Socket>();
  let received = 0;
  let oversize = false;
  const server = createServer((req, res) => {
    refusals.push(`${req.method} ${String(req.url).slice(0, 200)}: only https (CONNECT) is allowed`);
    res.writeHead(405, { connection: 'close' }).end();
  });
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  server.on('connection', track);

  server.on('connect', async (req: IncomingMessage, client: Socket, head: Buffer) => {
    const answer = (status: string) => client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    const refuse = (reason: string) => {
      refusals.push(`${String(req.url).slice(0, 200)}: ${reason}`);
      answer('403 Forbidden');
    };
    const target = parseTarget(String(req.url));
    if (!target) return refuse('not a host:port target');
    if (!opts.allowedPorts.includes(target.port)) return refuse(`port ${target.port} is not allowed (only ${opts.allowedPorts.join(', ')})`);
    if (opts.allowedHosts && !opts.allowedHosts.includes(target.host)) return refuse(`${target.host} is not on the list of code hosts`);
    const resolved = await resolveHost(target.host, opts.lookup, opts.forbidden);
    if (!resolved.ok) return refuse(resolved.reason);
    if (client.destroyed) return;
    // The address just checked, never the name again: that second lookup is what rebinding targets.
    const upstream = connect({ host: resolved.address, port: target.port });
    track(upstream);
    let connected = false;
    upstream.once('error', () => {
      // Before the tunnel is up the client still reads HTTP; after, only the far side's bytes.
      if (connected) return void client.destroy();
      unreachable.push(`${target.host}:${target.port} (${resolved.address})`);
      answer('502 Bad Gateway');
    });
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > opts.maxBytes) {
          oversize = true;
          upstream.destroy();
          client.destroy();
        }
      });
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.on('close', () => upstream.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    refusals,
    unreachable,
    get oversize() {
      return oversize;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** "host:port" or "[v6]:port", as CONNECT names its target; the host in lower case, without brackets. */
export function parseTarget(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+)):(\d{1,5})$/i.exec(text);
  if (!match) return null;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (match[1] ?? match[2]!).toLowerCase(), port };
}
