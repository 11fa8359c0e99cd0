import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { BLOCK_LIBRARY_WHEEL_NAME } from '../../src/dagster/block-library-wheel.ts';
import { DagsterConnections } from '../../src/dagster/dagster-connections.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import type { KubernetesTarget } from '../../src/dagster/kubernetes/target-config.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { until } from '../e2e/platform.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

const run = promisify(execFile);

const target: KubernetesTarget = {
  namespace: 'dagster-prod',
  image: 'registry.example.com/data/constellation',
  baseImage: 'python:3.12-slim',
  port: 4000,
  imagePullPolicy: 'IfNotPresent',
  secretName: 'pipeline-secrets',
  resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
};

/** Runs kubernetes-validate (pinned in requirements-dev.txt) on files, strictly, against Kubernetes 1.33. */
async function validate(files: string[]): Promise<{ ok: boolean; output: string }> {
  const bin = join(dirname(DEFAULT_PYTHON), 'kubernetes-validate');
  try {
    const { stdout, stderr } = await run(bin, ['--strict', '-k', '1.33.0', ...files]);
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

// Deploys to an environment whose Dagster runs on Kubernetes: the shard is written as for any
// environment, and beside it what a cluster consumes, which this service never applies.
describe('deploying to a target: kubernetes environment', () => {
  let t: TestApp;
  const env = writeOnlyEnvironment('production', {
    secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'],
    tableStorage: { url: 's3://lake-values/dagster', endpoint: 'http://garage:3900' },
    kubernetes: target,
  });
  const dir = join(env.workspaceDir, 'kubernetes');
  const read = (path: string) => readFileSync(join(dir, path), 'utf8');
  const documents = (path: string) => parseAllDocuments(read(path)).map((d) => d.toJS());
  let first: { id: string; message: string };
  beforeAll(async () => {
    t = await createTestApp('pglite', { environments: [env] });
  });
  afterAll(() => t.close());

  const deploy = async (id: string) => {
    const requested = await t.call('POST', `/v1/pipelines/${id}/deployments`, { environment: 'production' });
    expect(requested.status, JSON.stringify(requested.body)).toBe(202);
    return until(async () => (await t.call('GET', `/v1/deployments/${requested.body.id}`)).body, (d) => !['pending', 'in_progress'].includes(d.status), 60_000, 100);
  };
  const imageOf = () => documents('manifests/code-servers.yaml').find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image as string;

  it('writes the shard, answers written, and says which image to build and what to apply', async () => {
    const id = (await t.call('POST', '/v1/pipelines', flagshipSpec())).body.id;
    const done = await deploy(id);
    expect(done.status, JSON.stringify(done)).toBe('written');
    expect(done.location_name).toBe('local_shard_1');
    expect(done.message).toMatch(/runs on Kubernetes: build image registry\.example\.com\/data\/constellation\/local-shard-1:[0-9a-f]{16} from \S+\/kubernetes\/images\/local-shard-1\/Dockerfile/);
    expect(done.message).toMatch(/this service applies nothing to the cluster/);
    expect(readdirSync(join(env.workspaceDir, 'locations'))).toEqual(['local_shard_1']);
    first = { id, message: done.message };
  });

  it('writes a Dockerfile that installs the wheel and the shard and serves it with dagster api grpc, as a non-root user', () => {
    const image = imageOf();
    expect(first.message).toContain(image);
    const dockerfile = read('images/local-shard-1/Dockerfile');
    expect(dockerfile.split('\n').filter((line) => line && !line.startsWith('#'))).toEqual([
      'FROM python:3.12-slim',
      `COPY wheels/${BLOCK_LIBRARY_WHEEL_NAME} /opt/constellation/wheels/`,
      'COPY locations/local_shard_1/ /opt/constellation/locations/local_shard_1/',
      'RUN ["python", "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "-r", "/opt/constellation/locations/local_shard_1/requirements.txt"]',
      'WORKDIR /opt/constellation/locations/local_shard_1',
      `ENV DAGSTER_CURRENT_IMAGE=${image}`,
      'USER 10001:10001',
      'EXPOSE 4000',
      'CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "local_shard_1.definitions", "--working-directory", "/opt/constellation/locations/local_shard_1"]',
    ]);
    expect(read('build-images.sh')).toContain(`"$tool" build -f 'kubernetes/images/local-shard-1/Dockerfile' -t '${image}' .`);
  });

  it('renders a Deployment and a Service per shard: the image, the secret by name, the table storage, the resources', () => {
    const [deployment, service] = documents('manifests/code-servers.yaml');
    expect(deployment).toMatchObject({ kind: 'Deployment', metadata: { name: 'local-shard-1', namespace: 'dagster-prod' } });
    const container = deployment.spec.template.spec.containers[0];
    expect(container.args).toEqual(['dagster', 'api', 'grpc', '-h', '0.0.0.0', '-p', '4000', '-m', 'local_shard_1.definitions', '--working-directory', '/opt/constellation/locations/local_shard_1']);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'pipeline-secrets' } }]);
    expect(container.resources).toEqual(target.resources);
    const envVars = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(envVars).toMatchObject({ CONSTELLATION_TABLE_STORAGE: 's3://lake-values/dagster', CONSTELLATION_TABLE_STORAGE_ENDPOINT: 'http://garage:3900' });
    // Runs launched from this code server get the same secret and storage (K8sRunLauncher's container context).
    expect(JSON.parse(envVars.DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT)).toEqual({
      k8s: {
        namespace: 'dagster-prod',
        image_pull_policy: 'IfNotPresent',
        env_secrets: ['pipeline-secrets'],
        env_vars: ['CONSTELLATION_TABLE_STORAGE=s3://lake-values/dagster', 'CONSTELLATION_TABLE_STORAGE_ENDPOINT=http://garage:3900'],
        resources: target.resources,
      },
    });
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(service).toMatchObject({ kind: 'Service', metadata: { name: 'local-shard-1', namespace: 'dagster-prod' }, spec: { selector: deployment.spec.selector.matchLabels, ports: [{ port: 4000, targetPort: 4000 }] } });
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
  });

  it('names each shard\'s Service in the workspace, as a file and as the ConfigMap the webserver reads', () => {
    const workspace = { load_from: [{ grpc_server: { host: 'local-shard-1.dagster-prod.svc', port: 4000, location_name: 'local_shard_1' } }] };
    expect(parseYaml(read('workspace.yaml'))).toEqual(workspace);
    const [configMap] = documents('manifests/workspace-configmap.yaml');
    expect(configMap).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'constellation-workspace', namespace: 'dagster-prod' } });
    expect(parseYaml(configMap.data['workspace.yaml'])).toEqual(workspace);
  });

  it('writes the dagster-user-deployments values for the same image and code server', () => {
    const [repository, tag] = imageOf().split(':');
    expect(parseYaml(read('values-user-deployments.yaml'))).toMatchObject({
      deployments: [
        {
          name: 'local-shard-1',
          image: { repository, tag, pullPolicy: 'IfNotPresent' },
          dagsterApiGrpcArgs: ['-m', 'local_shard_1.definitions', '--working-directory', '/opt/constellation/locations/local_shard_1'],
          port: 4000,
          envSecrets: [{ name: 'pipeline-secrets' }],
          includeConfigInLaunchedRuns: { enabled: true },
        },
      ],
    });
  });

  it('passes the offline schema check of Kubernetes 1.33 (kubernetes-validate --strict), which refuses a wrong manifest', async () => {
    const manifests = ['manifests/code-servers.yaml', 'manifests/workspace-configmap.yaml'].map((p) => join(dir, p));
    const checked = await validate(manifests);
    expect(checked.ok, checked.output).toBe(true);
    // The same check fails on a Deployment with a field Kubernetes does not have: it reads what it is given.
    const wrong = join(mkdtempSync(join(tmpdir(), 'constellation-k8s-')), 'wrong.yaml');
    writeFileSync(wrong, read('manifests/code-servers.yaml').replace('replicas: 1', 'replicas: 1\n  replica: 1'));
    const refused = await validate([wrong]);
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/'replica' was unexpected/);
  });

  it('tags a new image when the shard changes, the same one when it is written again unchanged', async () => {
    const before = imageOf();
    const beforeFiles = read('manifests/code-servers.yaml');
    t.services.connections.get('production')!.workspace.writeWorkspaceYaml();
    expect(read('manifests/code-servers.yaml')).toBe(beforeFiles);
    await t.call('PATCH', `/v1/pipelines/${first.id}`, [{ op: 'add', path: '/blocks/0/config/batch_size', value: 500 }]);
    expect((await deploy(first.id)).status).toBe('written');
    expect(imageOf()).not.toBe(before);
    expect(read('images/local-shard-1/Dockerfile')).toContain(`ENV DAGSTER_CURRENT_IMAGE=${imageOf()}\n`);
  });

  it('shows the environment\'s target and cluster, not its secret\'s keys\' values, in GET /v1/environments', async () => {
    const listed = (await t.call('GET', '/v1/environments')).body.environments;
    expect(listed).toEqual([
      expect.objectContaining({
        name: 'production',
        target: 'kubernetes',
        kubernetes: { namespace: 'dagster-prod', image: 'registry.example.com/data/constellation', base_image: 'python:3.12-slim', port: 4000, secret_name: 'pipeline-secrets' },
        secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'],
      }),
    ]);
  });

  it('takes a shard whose last pipeline was deleted out of the manifests and the workspace', async () => {
    expect((await t.call('DELETE', `/v1/pipelines/${first.id}`)).status).toBe(200);
    expect(documents('manifests/code-servers.yaml').filter(Boolean)).toEqual([]);
    expect(parseYaml(read('workspace.yaml'))).toEqual({ load_from: [] });
    expect(existsSync(join(dir, 'images'))).toBe(false);
  });
});

describe('a target: kubernetes environment and this service\'s Dagster', () => {
  it('is never reloaded by this service, even when given a GraphQL URL in code', () => {
    const env = writeOnlyEnvironment('production', { graphqlUrl: 'http://127.0.0.1:1/graphql', kubernetes: target });
    const connection = new DagsterConnections(new Map([['production', env]])).get('production')!;
    expect(connection.locations).toBeNull();
  });
});
