import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort } from './https-git-server.ts';
import { parseTarget, startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from '../../src/code-repos/connect-proxy.ts';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  // Newest first: clients, then the proxy, then the servers it tunnels to.
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function proxy(opts: Partial<ConnectProxyOptions> = {}): Promise<ConnectProxy> {
  const started = await startConnectProxy({ allowedPorts: [443], allowedHosts: null, maxBytes: 1024 * 1024, ...opts });
  open.push(started);
  return started;
}

/** Speaks to the proxy over a raw socket, as git's curl does: the CONNECT line, then the tunnel. */
async function tunnel(port: number, target: string): Promise<{ status: number; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port });
  open.push({ close: () => socket.destroy() });
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  const head = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => resolve(text));
  });
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), socket };
}

/** A TCP server on loopback that answers every line with "echo: <line>". */
async function echoServer(): Promise<number> {
  const server: Server = createServer((s) => s.on('data', (chunk) => s.write(`echo: ${chunk}`)).on('error', () => undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return (server.address() as { port: number }).port;
}

describe('the CONNECT proxy every https clone goes through', () => {
  it('refuses a tunnel to a loopback address', async () => {
    const p = await proxy();
    expect((await tunnel(p.port, '127.0.0.1:443')).status).toBe(403);
    expect((await tunnel(p.port, '[::1]:443')).status).toBe(403);
    expect(p.refusals).toEqual(['127.0.0.1:443: 127.0.0.1 is a loopback address', '[::1]:443: ::1 is a loopback address']);
  });

  it('refuses a name that resolves to loopback, checking after its own DNS lookup', async () => {
    const p = await proxy();
    expect((await tunnel(p.port, 'localhost:443')).status).toBe(403);
    expect(p.refusals).toEqual(['localhost:443: localhost resolves to 127.0.0.1, a loopback address']);
  });

  it('refuses the metadata service and private networks', async () => {
    const p = await proxy();
    expect((await tunnel(p.port, '169.254.169.254:443')).status).toBe(403);
    expect((await tunnel(p.port, '10.0.0.5:443')).status).toBe(403);
    expect(p.refusals.join('\n')).toMatch(/link-local[\s\S]*private-network/);
  });

  it('refuses ports other than the allowed ones before resolving anything', async () => {
    const p = await proxy({ lookup: () => Promise.reject(new Error('must not be asked')) });
    expect((await tunnel(p.port, 'github.com:22')).status).toBe(403);
    expect(p.refusals).toEqual(['github.com:22: port 22 is not allowed (only 443)']);
  });

  it('refuses hosts outside the allow-list, as a redirect would name them', async () => {
    const p = await proxy({ allowedHosts: ['github.com'], lookup: () => Promise.reject(new Error('must not be asked')) });
    expect((await tunnel(p.port, 'evil.example:443')).status).toBe(403);
    expect(p.refusals).toEqual(['evil.example:443: evil.example is not on the list of code hosts']);
  });

  it('refuses plain-HTTP proxying (a redirect to http://)', async () => {
    const p = await proxy();
    const answer = await fetch(`${p.url}/`, { method: 'GET' });
    expect(answer.status).toBe(405);
    expect(p.refusals[0]).toMatch(/only https \(CONNECT\) is allowed/);
  });

  it('tunnels to exactly the address its own lookup gave, never resolving the name again', async () => {
    const port = await echoServer();
    // "repo.invalid" exists in no DNS: only the address the proxy checked can be what it reached.
    const p = await proxy({ allowedPorts: [port], lookup: async () => ['127.0.0.1'], forbidden: () => null });
    const { status, socket } = await tunnel(p.port, `repo.invalid:${port}`);
    expect(status).toBe(200);
    const echoed = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(String(chunk))));
    socket.write('hello');
    expect(await echoed).toBe('echo: hello');
    expect(p.refusals).toEqual([]);
  });

  it('answers 502 for an allowed address that does not answer, and keeps it apart from refusals', async () => {
    const port = await closedPort();
    const p = await proxy({ allowedPorts: [port], forbidden: () => null });
    expect((await tunnel(p.port, `localhost:${port}`)).status).toBe(502);
    expect(p.unreachable).toEqual([`localhost:${port} (127.0.0.1)`]);
    expect(p.refusals).toEqual([]);
  });

  it('cuts a tunnel that brings more than the size limit', async () => {
    const port = await echoServer();
    const p = await proxy({ allowedPorts: [port], forbidden: () => null, maxBytes: 64 });
    const { status, socket } = await tunnel(p.port, `127.0.0.1:${port}`);
    expect(status).toBe(200);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.write('x'.repeat(200));
    await closed;
    expect(p.oversize).toBe(true);
  });
});

describe('parseTarget', () => {
  it('reads host:port and [v6]:port, and nothing else', () => {
    expect(parseTarget('GitHub.com:443')).toEqual({ host: 'github.com', port: 443 });
    expect(parseTarget('[::1]:443')).toEqual({ host: '::1', port: 443 });
    expect(parseTarget('github.com')).toBeNull();
    expect(parseTarget('a b:443')).toBeNull();
    expect(parseTarget('github.com:0')).toBeNull();
  });
});
