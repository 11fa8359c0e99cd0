import { Document, parse as parseYaml } from 'yaml';
import type { Environment } from './environments.ts';
import { assignGrpcPorts } from './grpc-ports.ts';
import { parseShardName } from './shard-files.ts';

/**
 * The environment's system code location: the block library's own jobs (source inspection), a
 * module of the installed library (blocks/python/constellation_blocks/system_location.py), so it
 * has no folder here. One per environment, in every workspace.yaml, so that what it runs runs where
 * the environment's pipelines run, with that Dagster's variables, before any pipeline is deployed
 * and in no org's shard.
 */
export const SYSTEM_LOCATION = 'constellation_system';
const SYSTEM_MODULE = 'constellation_blocks.system_location';

const HEADER =
  ' Written by Constellation Agent: the system location (the block library\'s own jobs), then one entry per code location (an org\'s shard of pipelines, or one pipeline deployed before shards). Do not edit by hand.';

/** A shard served by its own code server, as workspace.yaml names it. */
export interface GrpcEntry {
  location: string;
  host: string;
  port: number;
}

/**
 * workspace.yaml's text for the locations `names` (in place under `locationDir`), the system
 * location first. With code_servers grpc a shard is a `grpc_server` entry, on the port
 * `previousYaml` gave it (assignGrpcPorts: throws when the range is exhausted, before anything is
 * written); otherwise a module loaded from its folder. A pipeline deployed before shards keeps its
 * own python_file location (until it is deployed again, into a shard), and the system location is
 * always loaded by Dagster itself: it has no folder a code server could serve.
 */
export function renderWorkspaceYaml(env: Environment, names: string[], locationDir: (name: string) => string, previousYaml: string | null): string {
  const executable_path = env.python;
  const shards = names.filter((name) => parseShardName(name));
  const ports = env.codeServers === 'grpc' && env.grpc ? assignGrpcPorts(shards, portsOf(grpcEntries(previousYaml)), env.grpc) : null;
  const entry = (name: string) => {
    if (!parseShardName(name)) {
      // Dagster rebases a python_file entry's working_directory on workspace.yaml's folder.
      return { python_file: { relative_path: `locations/${name}/definitions.py`, working_directory: `locations/${name}`, location_name: name, executable_path } };
    }
    if (ports) return { grpc_server: { host: env.grpc!.host, port: ports.get(name)!, location_name: name } };
    // It takes a python_module entry's working_directory as it is (relative to the webserver's and
    // daemon's own working directory), so a shard's is written absolute.
    return { python_module: { module_name: `${name}.definitions`, working_directory: locationDir(name), location_name: name, executable_path } };
  };
  const doc = new Document({
    load_from: [{ python_module: { module_name: SYSTEM_MODULE, location_name: SYSTEM_LOCATION, executable_path } }, ...[...names].sort().map(entry)],
  });
  doc.commentBefore = HEADER;
  return doc.toString({ lineWidth: 0 });
}

/** The grpc_server entries of a workspace.yaml's text; none when it is missing or unreadable. */
export function grpcEntries(yamlText: string | null): GrpcEntry[] {
  return loadFrom(yamlText).flatMap((e) => {
    const server = e?.grpc_server;
    return server && typeof server.location_name === 'string' && Number.isInteger(server.port)
      ? [{ location: server.location_name, host: String(server.host ?? 'localhost'), port: server.port }]
      : [];
  });
}

/** The location names a workspace.yaml's text lists, of every kind of entry. */
export function locationNamesIn(yamlText: string | null): string[] {
  return loadFrom(yamlText).flatMap((e) => Object.values(e ?? {}).map((target: any) => String(target?.location_name)));
}

const portsOf = (entries: GrpcEntry[]) => new Map(entries.map((e) => [e.location, e.port]));

function loadFrom(yamlText: string | null): any[] {
  if (!yamlText) return [];
  try {
    const entries = parseYaml(yamlText)?.load_from;
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}
