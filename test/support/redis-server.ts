import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres-server.ts';
import { removeOnExit, spawnServer } from './server-processes.ts';

/** A throwaway Redis (Debian's redis-server) on a free loopback port, owned by this test run; or TEST_REDIS_URL's. */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisServer> {
  const given = process.env.TEST_REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'constellation-redis-'));
  // Registered before the server, so that at exit the server is killed first, then this goes.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const releaseDir = removeOnExit(dir, removeDir);
  const port = await freePort();
  const out = openSync(join(dir, 'server.log'), 'a');
  // Nothing written to disk: no snapshots, no append-only file.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const server = spawnServer('redis-server', args, { stdio: ['ignore', out, out], graceMs: 5_000 });
  closeSync(out);
  const stop = async () => {
    await server.stop();
    releaseDir();
    removeDir();
  };
  try {
    await untilPong(port, () => server.failure() && new Error(`redis-server: ${server.failure()!.message} (is it installed? run scripts/ensure-test-deps.sh or set TEST_REDIS_URL); see ${dir}/server.log`));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** Waits for PING to be answered; throws what `failed` reports, or after half a minute. */
async function untilPong(port: number, failed: () => Error | null): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await pong(port)) return;
    const error = failed();
    if (error) throw error;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within half a minute`);
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      reply += String(d);
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}
