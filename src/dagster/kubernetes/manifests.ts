import { stringify } from 'yaml';
import { tableStorageEnv, type TableStorage } from '../environments.ts';
import { grpcCommand, grpcLoadArgs, IMAGE_USER } from './dockerfile.ts';
import { clusterName, serviceHost } from './names.ts';
import type { KubernetesTarget } from './target-config.ts';

/**
 * What a cluster's Dagster consumes for an environment's shards, as Dagster runs user code at
 * scale: per shard a Deployment running its image's `dagster api grpc` and a Service in front of
 * it; the workspace that names each by host and port, and a ConfigMap holding it for the
 * webserver (`dagsterWebserver.workspace.externalConfigmap`); or, instead of the Deployments and
 * Services, the values of Dagster's `dagster-user-deployments` Helm chart, which makes the same
 * Deployment and Service (named like ours) from them. Objects here, YAML through the yaml package.
 */

export interface ClusterShard {
  shard: string;
  image: { repository: string; tag: string; ref: string };
}

export interface ClusterInput {
  target: KubernetesTarget;
  /** Where runs pass values between assets (an S3 prefix with target: kubernetes): set on code servers and runs alike. */
  tableStorage?: TableStorage | undefined;
  shards: ClusterShard[];
}

/** The ConfigMap the webserver reads its workspace from. */
export const WORKSPACE_CONFIGMAP = 'constellation-workspace';

const PART_OF = { 'app.kubernetes.io/part-of': 'constellation', 'app.kubernetes.io/managed-by': 'constellation-agent' };
const selector = (shard: string) => ({ 'app.kubernetes.io/name': clusterName(shard), ...PART_OF });
const labels = (shard: string) => ({ ...selector(shard), 'app.kubernetes.io/component': 'code-server' });

// Dagster's chart runs user code the same way (runAsNonRoot needs a numeric user: the image's USER).
const podSecurityContext = { runAsNonRoot: true, runAsUser: IMAGE_USER, runAsGroup: IMAGE_USER, seccompProfile: { type: 'RuntimeDefault' } };
const securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

const plainEnv = (input: ClusterInput) => Object.entries(input.tableStorage ? tableStorageEnv(input.tableStorage) : {}).map(([name, value]) => ({ name, value }));

/**
 * What K8sRunLauncher adds to the pods of runs launched from this code server: the secret, the
 * table storage and the resources, as the Helm chart's includeConfigInLaunchedRuns does. Given to
 * `dagster api grpc` through its DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT variable (its
 * --container-context option), as the chart passes it.
 */
function containerContext(input: ClusterInput): string {
  const { target } = input;
  return JSON.stringify({
    k8s: {
      namespace: target.namespace,
      image_pull_policy: target.imagePullPolicy,
      env_secrets: [target.secretName],
      env_vars: plainEnv(input).map(({ name, value }) => `${name}=${value}`),
      ...(target.resources ? { resources: target.resources } : {}),
    },
  });
}

export function shardDeployment(input: ClusterInput, { shard, image }: ClusterShard): Record<string, unknown> {
  const { target } = input;
  const port = target.port;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: clusterName(shard), namespace: target.namespace, labels: labels(shard), annotations: { 'constellation.dev/code-location': shard } },
    spec: {
      replicas: 1,
      selector: { matchLabels: selector(shard) },
      template: {
        metadata: { labels: labels(shard) },
        spec: {
          securityContext: podSecurityContext,
          containers: [
            {
              name: 'code-server',
              image: image.ref,
              imagePullPolicy: target.imagePullPolicy,
              // The image's CMD, written out so that the manifest says what runs.
              args: grpcCommand(shard, port),
              ports: [{ name: 'grpc', containerPort: port, protocol: 'TCP' }],
              env: [...plainEnv(input), { name: 'DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT', value: containerContext(input) }],
              envFrom: [{ secretRef: { name: target.secretName } }],
              // Loading a shard takes seconds (DAGSTER.md): ready once the server answers, as the chart checks.
              readinessProbe: { exec: { command: ['dagster', 'api', 'grpc-health-check', '-p', String(port)] }, periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 15 },
              ...(target.resources ? { resources: target.resources } : {}),
              securityContext,
            },
          ],
        },
      },
    },
  };
}

export function shardService(input: ClusterInput, { shard }: ClusterShard): Record<string, unknown> {
  const port = input.target.port;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: clusterName(shard), namespace: input.target.namespace, labels: labels(shard) },
    spec: { type: 'ClusterIP', selector: selector(shard), ports: [{ name: 'grpc', port, targetPort: port, protocol: 'TCP' }] },
  };
}

/** The cluster's workspace.yaml: one gRPC server per shard, by the host of its Service. */
export function clusterWorkspaceYaml(input: ClusterInput): string {
  const load_from = input.shards.map(({ shard }) => ({ grpc_server: { host: serviceHost(input.target, shard), port: input.target.port, location_name: shard } }));
  return `# Written by Constellation Agent: one gRPC code server per code location. Do not edit by hand.\n${stringify({ load_from })}`;
}

export function workspaceConfigMap(input: ClusterInput): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: WORKSPACE_CONFIGMAP, namespace: input.target.namespace, labels: { ...PART_OF, 'app.kubernetes.io/component': 'workspace' } },
    data: { 'workspace.yaml': clusterWorkspaceYaml(input) },
  };
}

/**
 * Values for Dagster's `dagster-user-deployments` chart (a release of its own, installed in the
 * environment's namespace): the chart names each Deployment's Service after `name`, the host the
 * workspace ConfigMap names, and passes the secret and the environment to launched runs itself.
 */
export function userDeploymentsValues(input: ClusterInput): Record<string, unknown> {
  const { target } = input;
  return {
    deployments: input.shards.map(({ shard, image }) => ({
      name: clusterName(shard),
      image: { repository: image.repository, tag: image.tag, pullPolicy: target.imagePullPolicy },
      dagsterApiGrpcArgs: grpcLoadArgs(shard),
      port: target.port,
      env: plainEnv(input),
      envSecrets: [{ name: target.secretName }],
      includeConfigInLaunchedRuns: { enabled: true },
      podSecurityContext,
      securityContext,
      resources: target.resources ?? {},
      annotations: { 'constellation.dev/code-location': shard },
    })),
  };
}

/** Several objects as one YAML stream. */
export const yamlDocuments = (objects: Array<Record<string, unknown>>) => objects.map((o) => stringify(o)).join('---\n');
