import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres-server.ts';

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
  const child = spawn('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { stdio: ['ignore', out, out], detached: true });
  const httpUrl = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${httpUrl}/ping`)).ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}; see ${dir}/log`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `clickhouse://default:@127.0.0.1:${tcp}/default`,
    httpUrl,
    query: (sql) => httpQuery(httpUrl, sql),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        return;
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
