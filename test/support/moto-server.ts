import { join } from 'node:path';
import { VENV_BIN } from './dagster-server.ts';
import { freePort } from './postgres-server.ts';
import { spawnServer } from './server-processes.ts';

/**
 * moto in server mode (from the project's virtualenv) as the S3-compatible store of end-to-end
 * tests: Debian packages neither Garage nor MinIO. Without its IAM mode moto takes any key, so
 * buckets and objects are made with plain unsigned requests; the blocks sign theirs with boto3.
 */
export interface MotoServer {
  url: string;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: string): Promise<void>;
  /** The keys under `prefix`, sorted. */
  list(bucket: string, prefix?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawnServer(join(VENV_BIN, 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const failure = server.failure();
    if (failure) throw failure;
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`moto_server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const request = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${url}${path}`, { method, ...(body === undefined ? {} : { body }) });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.text();
  };
  return {
    url,
    createBucket: async (name) => void (await request('PUT', `/${name}`)),
    put: async (bucket, key, body) => void (await request('PUT', `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, body)),
    list: async (bucket, prefix = '') => {
      const xml = await request('GET', `/${bucket}?list-type=2&prefix=${encodeURIComponent(prefix)}`);
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!).sort();
    },
    stop: () => server.stop(),
  };
}
