import { AppError } from '../errors.ts';
import type { GrpcServers } from './environments.ts';

/**
 * The port of each shard's gRPC code server, from the environment's range. A shard keeps the port
 * workspace.yaml already gives it (`current`), so that a restart of the service or of
 * `npm run dagster` finds every code server where Dagster was told it is; a new shard takes the
 * lowest port no other shard holds. Ports of shards that left are free again.
 */
export function assignGrpcPorts(shards: string[], current: ReadonlyMap<string, number>, grpc: GrpcServers): Map<string, number> {
  const { from, to } = grpc.ports;
  const ports = new Map<string, number>();
  const taken = new Set<number>();
  const inRange = (port: number) => Number.isInteger(port) && port >= from && port <= to;
  const sorted = [...new Set(shards)].sort();
  for (const shard of sorted) {
    const port = current.get(shard);
    // A port outside a range narrowed since, or one two entries claimed (a hand-edited file), is given anew.
    if (port !== undefined && inRange(port) && !taken.has(port)) {
      ports.set(shard, port);
      taken.add(port);
    }
  }
  let next = from;
  for (const shard of sorted) {
    if (ports.has(shard)) continue;
    while (taken.has(next)) next++;
    if (next > to) throw portsExhausted(sorted.length, grpc);
    ports.set(shard, next);
    taken.add(next);
  }
  return ports;
}

function portsExhausted(shards: number, grpc: GrpcServers): AppError {
  const { from, to } = grpc.ports;
  const size = to - from + 1;
  return new AppError('conflict:grpc_ports_exhausted', `The environment's code servers need ${shards} ports, one per shard, but grpc.ports (${from}-${to}) holds ${size}.`, {
    hint: `Widen grpc.ports in DAGSTER_ENVIRONMENTS (e.g. to: ${from + Math.max(shards, size * 2) - 1}), or raise pipelines_per_shard so fewer shards are needed; then deploy again.`,
    issues: [{ code: 'grpc_ports_exhausted', path: '/grpc/ports', message: `${size} ports for ${shards} shards` }],
  });
}
