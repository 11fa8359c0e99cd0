import { createServer } from 'node:net';
import { freePort } from './postgres-server.ts';

/** `size` consecutive loopback ports free now (each bound once and let go), for an environment's grpc.ports. */
export async function freePortRange(size: number): Promise<{ from: number; to: number }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const from = await freePort();
    if (from + size - 1 > 65535) continue;
    const ports = Array.from({ length: size }, (_, i) => from + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return { from, to: from + size - 1 };
  }
  throw new Error(`freePortRange: found no ${size} free consecutive ports`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
