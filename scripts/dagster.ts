// npm run dagster: a local Dagster (webserver + daemon) over the development environment's
// workspace, where `npm start` deploys. Together they are a complete local platform. For an
// environment with code_servers: grpc it also runs one code server per shard, following
// workspace.yaml as deploys change it (code-server-supervisor.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { prepareDagsterHome } from '../src/adapters/dagster/dagster-home.ts';
import { loadConfig } from '../src/config.ts';
import { CodeServerSupervisor } from '../src/dagster/code-server-supervisor.ts';
import { loadEnvironments, tableStorageEnv } from '../src/dagster/environments.ts';
import { TELEMETRY_OFF } from '../src/adapters/dagster/telemetry-off.ts';
import { Workspace } from '../src/dagster/workspace.ts';

const root = resolve(import.meta.dirname, '..');
const config = loadConfig();
const name = process.argv[2] ?? 'development';
const env = loadEnvironments({
  ...(config.DAGSTER_ENVIRONMENTS ? { file: config.DAGSTER_ENVIRONMENTS } : {}),
  dataDir: config.DATA_DIR,
  defaultGraphqlUrl: config.DAGSTER_GRAPHQL_URL === 'none' ? '' : config.DAGSTER_GRAPHQL_URL,
}).get(name);
if (!env) {
  process.stderr.write(`No environment "${name}" is configured.\n`);
  process.exit(1);
}
const url = new URL(env.graphqlUrl ?? 'http://127.0.0.1:3000/graphql');
// Said first: the Python environment may take a minute to install on a first run.
process.stdout.write(
  `Starting Dagster for "${name}" at ${url.origin} (its port follows ${config.DAGSTER_ENVIRONMENTS ? `graphql_url in ${config.DAGSTER_ENVIRONMENTS}` : 'DAGSTER_GRAPHQL_URL'}, where the service deploys)\n`,
);
if (spawnSync('bash', [join(root, 'scripts/python-env.sh')], { stdio: 'inherit' }).status !== 0) process.exit(1);

const workspace = new Workspace(env);
workspace.writeWorkspaceYaml();
const home = resolve(config.DATA_DIR, 'dagster-home', name);
const workspaceYaml = join(workspace.dir, 'workspace.yaml');
const bin = (tool: string) => join(root, '.venv/bin', tool);
// Values between assets go to the environment's table storage (Parquet under DATA_DIR/table-data by
// default), never pickled under DAGSTER_HOME.
const childEnv = { ...process.env, ...TELEMETRY_OFF, ...(env.tableStorage ? tableStorageEnv(env.tableStorage) : {}), DAGSTER_HOME: home };
// The home's storage is created (or upgraded) before the webserver and daemon start, so the two
// never race to create it (see prepareDagsterHome).
try {
  await prepareDagsterHome(home, join(root, '.venv/bin'), childEnv);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}

// Code servers first, so that the webserver and the daemon find every shard answering when they start.
const supervisor =
  env.codeServers === 'grpc'
    ? new CodeServerSupervisor({ workspace, env: childEnv, log: (line) => process.stdout.write(`${line}\n`) })
    : null;
const children: ChildProcess[] = [];
let stopping = false;
const stop = (code: number) => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
  if (stopping) return;
  stopping = true;
  // The code servers run in process groups of their own (see the supervisor): stopped here, or they would outlive us.
  void supervisor?.stop();
};
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
if (supervisor) {
  const { host, ports } = env.grpc!;
  process.stdout.write(`Code servers for "${name}": one per shard on ${host}, ports ${ports.from}-${ports.to} (grpc in ${config.DAGSTER_ENVIRONMENTS})\n`);
  await supervisor.start();
  const silent = await supervisor.untilListening(120_000);
  if (silent.length) process.stdout.write(`Not answering yet (Dagster shows them as unreachable until they do): ${silent.join(', ')}\n`);
}

process.stdout.write(`Dagster for "${name}": UI and GraphQL at ${url.origin}, workspace ${workspaceYaml}, DAGSTER_HOME ${home}, table storage ${env.tableStorage?.url ?? 'under DAGSTER_HOME'}\n`);
if (!stopping) {
  children.push(
    spawn(bin('dagster-webserver'), ['-h', url.hostname, '-p', url.port || '3000', '-w', workspaceYaml], { stdio: 'inherit', env: childEnv }),
    spawn(bin('dagster-daemon'), ['run', '-w', workspaceYaml], { stdio: 'inherit', env: childEnv }),
  );
}
for (const child of children) child.once('exit', (code) => stop(code ?? 0));
