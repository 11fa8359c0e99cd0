import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres-server.ts';
import { removeOnExit, spawnServer } from './server-processes.ts';

/** A throwaway ClickHouse server (Debian's clickhouse-server) on free loopback ports. */
export interface ClickHouseServer {
  /** clickhouse-driver's native-protocol URL, as the ClickHouse block takes it. */
  url: string;
  httpUrl: string;
  /** Runs a query over HTTP and returns the rows as JSON objects. */
  query(sql: string): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<void>;
}

export async function startClickHouse(): Promise<ClickHouseServer> {
  const given = process.env.TEST_CLICKHOUSE_URL;
  if (given) return remote(given);
  const dir = mkdtempSync(join(tmpdir(), 'constellation-ch-'));
  // Registered before the server, so that at exit the server is killed first, then this goes.
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const releaseDir = removeOnExit(dir, removeDir);
  for (const sub of ['data', 'tmp', 'log']) mkdirSync(join(dir, sub));
  const [tcp, http] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>${tcp}</tcp_port>
  <http_port>${http}</http_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`,
  );
  const out = openSync(join(dir, 'log', 'stdout.log'), 'a');
  const server = spawnServer('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { stdio: ['ignore', out, out] });
  closeSync(out);
  const stop = async () => {
    await server.stop();
    releaseDir();
    removeDir();
  };
  const httpUrl = `http://127.0.0.1:${http}`;
  try {
    await untilUp(httpUrl, () => server.failure() && new Error(`${server.failure()!.message}; see ${dir}/log`));
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `clickhouse://default:@127.0.0.1:${tcp}/default`, httpUrl, query: (sql) => httpQuery(httpUrl, sql), stop };
}

/** Waits for /ping to answer; throws what `failed` reports, or after a minute. */
async function untilUp(httpUrl: string, failed: () => Error | null): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${httpUrl}/ping`)).ok) return;
    } catch {
      // not up yet
    }
    const error = failed();
    if (error) throw error;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`clickhouse-server did not answer ${httpUrl}/ping within a minute`);
}

async function httpQuery(httpUrl: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${httpUrl}/?default_format=JSONEachRow`, { method: 'POST', body: sql });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text}`);
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

function remote(url: string): ClickHouseServer {
  const u = new URL(url);
  const httpUrl = `http://${u.hostname}:${process.env.TEST_CLICKHOUSE_HTTP_PORT ?? '8123'}`;
  return { url, httpUrl, query: (sql) => httpQuery(httpUrl, sql), stop: async () => {} };
}
