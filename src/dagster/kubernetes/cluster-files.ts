import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { blockLibraryHash } from '../block-library-wheel.ts';
import type { Workspace } from '../workspace.ts';
import { shardDockerfile } from './dockerfile.ts';
import { clusterWorkspaceYaml, shardDeployment, shardService, userDeploymentsValues, workspaceConfigMap, yamlDocuments, type ClusterInput, type ClusterShard } from './manifests.ts';
import { clusterName, shardImage } from './names.ts';
import { IMAGE_REFERENCE, type KubernetesTarget } from './target-config.ts';

/**
 * Everything a cluster consumes for an environment with target: kubernetes, under
 * `<workspace_dir>/kubernetes/`, rewritten whenever its shards change (Workspace.writeWorkspaceYaml):
 *   images/<name>/Dockerfile        one image per shard; build context: the workspace folder
 *   build-images.sh                 builds (and with --push, pushes) every image
 *   manifests/code-servers.yaml     a Deployment and a Service per shard
 *   manifests/workspace-configmap.yaml  the ConfigMap the webserver reads its workspace from
 *   workspace.yaml                  the same workspace, as a file
 *   values-user-deployments.yaml    the dagster-user-deployments chart's values, instead of code-servers.yaml
 * This service applies none of it: a team builds the images and applies the manifests (README,
 * "Running on Kubernetes").
 */
export const CLUSTER_DIR = 'kubernetes';

/**
 * A shard's image tag: a hash of what goes into its image (the shard's files, the block library's
 * sources, the base image and port), so a tag never names two images and an unchanged shard keeps
 * its tag, with nothing to build or roll out again.
 */
function contentHash(workspace: Workspace, shard: string, target: KubernetesTarget, library: string): string {
  const hash = createHash('sha256');
  const files = Object.entries(workspace.readShard(shard)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [path, content] of files) hash.update(`${path.length}:${path}${Buffer.byteLength(content)}:`).update(content);
  hash.update(`\0library:${library}\0base:${target.baseImage}\0port:${target.port}`);
  return hash.digest('hex').slice(0, 16);
}

const dockerfilePath = (shard: string) => `${CLUSTER_DIR}/images/${clusterName(shard)}/Dockerfile`;

function clusterInput(workspace: Workspace, target: KubernetesTarget): ClusterInput {
  const library = blockLibraryHash();
  const shards: ClusterShard[] = workspace.shardNames().map((shard) => ({ shard, image: shardImage(target, shard, contentHash(workspace, shard, target, library)) }));
  return { target, tableStorage: workspace.env.tableStorage, shards };
}

/** Where a shard's image is described, and its reference: what a deploy tells the team to build. */
export function clusterImageOf(workspace: Workspace, shard: string): { image: string; dockerfile: string } | null {
  const target = workspace.env.kubernetes;
  if (!target) return null;
  return { image: shardImage(target, shard, contentHash(workspace, shard, target, blockLibraryHash())).ref, dockerfile: join(workspace.dir, dockerfilePath(shard)) };
}

/** The files under kubernetes/ for the shards in place, path → content. */
export function clusterFiles(workspace: Workspace, target: KubernetesTarget): Record<string, string> {
  const input = clusterInput(workspace, target);
  const files: Record<string, string> = {};
  for (const { shard, image } of input.shards) {
    files[dockerfilePath(shard).slice(CLUSTER_DIR.length + 1)] = shardDockerfile({ shard, image: image.ref, baseImage: target.baseImage, port: target.port, path: dockerfilePath(shard) });
  }
  const header = (what: string) => `# Written by Constellation Agent: ${what}. Do not edit by hand.\n`;
  files['build-images.sh'] = buildScript(input);
  files['manifests/code-servers.yaml'] =
    header(`a Deployment and a Service per code location of namespace ${target.namespace}`) + yamlDocuments(input.shards.flatMap((s) => [shardDeployment(input, s), shardService(input, s)]));
  files['manifests/workspace-configmap.yaml'] = header('the workspace of the webserver (dagsterWebserver.workspace.externalConfigmap)') + yamlDocuments([workspaceConfigMap(input)]);
  files['workspace.yaml'] = clusterWorkspaceYaml(input);
  files['values-user-deployments.yaml'] = header('values for Dagster\'s dagster-user-deployments Helm chart, in place of manifests/code-servers.yaml') + stringify(userDeploymentsValues(input));
  return files;
}

/** Writes kubernetes/ whole (staged, then renamed into place, as a location is), for an environment with target: kubernetes. */
export function writeClusterFiles(workspace: Workspace): void {
  const target = workspace.env.kubernetes;
  if (!target) return;
  const staged = join(workspace.dir, '.staging', `${CLUSTER_DIR}-${randomBytes(6).toString('hex')}`);
  for (const [path, content] of Object.entries(clusterFiles(workspace, target))) {
    mkdirSync(dirname(join(staged, path)), { recursive: true });
    writeFileSync(join(staged, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
  workspace.discard(join(workspace.dir, CLUSTER_DIR));
  renameSync(staged, join(workspace.dir, CLUSTER_DIR));
}

/**
 * A shell script of fixed lines: each image reference matched IMAGE_REFERENCE (no quote, space or
 * `$` can be in one), and each path is made of a shard's DNS name, so single quotes hold them whole.
 */
function buildScript(input: ClusterInput): string {
  const quote = (value: string) => {
    if (!/^[A-Za-z0-9@:/._-]+$/.test(value)) throw new Error(`buildScript: ${JSON.stringify(value)} cannot be written into the script`);
    return `'${value}'`;
  };
  const lines = input.shards.flatMap(({ shard, image }) => {
    if (!IMAGE_REFERENCE.test(image.ref)) throw new Error(`buildScript: ${image.ref} is not an image reference`);
    return [`"$tool" build -f ${quote(dockerfilePath(shard))} -t ${quote(image.ref)} .`, `[ "\${1:-}" != --push ] || "$tool" push ${quote(image.ref)}`];
  });
  return [
    '#!/bin/sh',
    '# Written by Constellation Agent: builds the image of each code location (with --push, pushes it too).',
    '# CONTAINER_TOOL=podman to build with podman. Do not edit by hand.',
    'set -eu',
    'cd "$(dirname "$0")/.."',
    'tool="${CONTAINER_TOOL:-docker}"',
    ...lines,
    '',
  ].join('\n');
}
