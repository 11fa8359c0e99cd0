import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeOnExit, sh, stopOnExit } from './server-processes.ts';

/** A throwaway PostgreSQL server on a free loopback port, owned by this test run. */
export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

function findBin(name: string): string {
  const roots = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of roots) {
    const candidate = `/usr/lib/postgresql/${version}/bin/${name}`;
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(`PostgreSQL's ${name} is not installed; run scripts/ensure-test-deps.sh or set TEST_DATABASE_URL`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-pg-'));
  const dataDir = join(dir, 'data');
  // PostgreSQL refuses to run as root; as root, run it as the "postgres" user Debian creates.
  const asRoot = process.getuid?.() === 0;
  const command = (bin: string, args: string[]) => (asRoot ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args]);
  const run = (bin: string, args: string[]) => {
    const [file, ...rest] = command(bin, args);
    return execFileSync(file!, rest, { stdio: 'pipe' });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const releaseDir = removeOnExit(dir, removeDir);
  try {
    run(findBin('initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  } catch (error) {
    releaseDir();
    removeDir();
    throw error;
  }
  const port = await freePort();
  // pg_ctl leaves the server running on its own, so it is stopped with pg_ctl, now or at exit.
  const stopArgs = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
  const stopServer = () => {
    try {
      run(findBin('pg_ctl'), stopArgs);
    } catch {
      // Not running (it did not start, or is already stopped).
    }
  };
  const releaseServer = stopOnExit(stopServer, `${command(findBin('pg_ctl'), stopArgs).map(sh).join(' ')} >/dev/null 2>&1`);
  const stop = async () => {
    releaseServer();
    stopServer();
    releaseDir();
    removeDir();
  };
  try {
    run(findBin('pg_ctl'), [
      '-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60',
      '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  } catch (error) {
    // A start that timed out can leave a postmaster behind.
    await stop();
    throw error;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}
