import { BLOCK_LIBRARY_WHEEL_NAME, BLOCK_LIBRARY_WHEELS_DIR } from '../block-library-wheel.ts';
import { parseShardName } from '../shard-files.ts';
import { IMAGE_REFERENCE } from './target-config.ts';

/**
 * The image of one shard: the environment's base image, the block library's wheel, the shard's
 * project, its requirements installed, and `dagster api grpc` serving it — what Dagster's Helm
 * chart and K8sRunLauncher expect of a user-code image. Built with the environment's workspace
 * folder as the context, so that it copies wheels/ and locations/<shard>/ as deploy wrote them.
 */

/** Where the workspace's folders go in the image: the same layout, so the shard's `--find-links ../../wheels` holds there too. */
const IMAGE_ROOT = '/opt/constellation';
/** The user the code server runs as: not root, and a number, so Kubernetes can check runAsNonRoot without a passwd entry. */
export const IMAGE_USER = 10001;

export const shardDirInImage = (shard: string) => `${IMAGE_ROOT}/locations/${shard}`;

/** What `dagster api grpc` loads: the shard's definitions module, from its project folder (as the local workspace.yaml does). */
export function grpcLoadArgs(shard: string): string[] {
  if (!parseShardName(shard)) throw new Error(`grpcLoadArgs: ${JSON.stringify(shard)} is not a shard's name`);
  return ['-m', `${shard}.definitions`, '--working-directory', shardDirInImage(shard)];
}

/** The whole command of a shard's code server, listening on every interface of its pod. */
export const grpcCommand = (shard: string, port: number) => ['dagster', 'api', 'grpc', '-h', '0.0.0.0', '-p', String(port), ...grpcLoadArgs(shard)];

export interface DockerfileInput {
  shard: string;
  /** The image's own reference (repository:tag), for DAGSTER_CURRENT_IMAGE. */
  image: string;
  baseImage: string;
  port: number;
  /** Where the Dockerfile is, relative to the workspace folder: for the build command in its header. */
  path: string;
}

/**
 * The Dockerfile, from a fixed template. Every value in it is the service's own (a shard name,
 * a port, the wheel's name) or an image reference the environment's config was checked against;
 * they are checked again here, so that no line can be made to say something else.
 */
export function shardDockerfile(input: DockerfileInput): string {
  const { shard, image, baseImage, port } = input;
  if (!parseShardName(shard)) throw new Error(`shardDockerfile: ${JSON.stringify(shard)} is not a shard's name`);
  for (const ref of [image, baseImage]) if (!IMAGE_REFERENCE.test(ref)) throw new Error(`shardDockerfile: ${JSON.stringify(ref)} is not an image reference`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`shardDockerfile: ${port} is not a port`);
  if (!/^[A-Za-z0-9/_-]+$/.test(input.path)) throw new Error(`shardDockerfile: ${JSON.stringify(input.path)} is not a path of ours`);
  const dir = shardDirInImage(shard);
  const exec = (args: string[]) => JSON.stringify(args).replace(/","/g, '", "');
  return [
    `# Written by Constellation Agent: the image of code location ${shard}. Do not edit by hand.`,
    '# Build it from the environment\'s workspace folder, which holds wheels/ and locations/:',
    `#   docker build -f ${input.path} -t ${image} .`,
    `FROM ${baseImage}`,
    `COPY ${BLOCK_LIBRARY_WHEELS_DIR}/${BLOCK_LIBRARY_WHEEL_NAME} ${IMAGE_ROOT}/${BLOCK_LIBRARY_WHEELS_DIR}/`,
    `COPY locations/${shard}/ ${dir}/`,
    // Exec form: no shell is needed in the base image, and nothing is parsed by one.
    // requirements.txt names the wheel's folder (--find-links ../../wheels) and the constraints beside it.
    `RUN ${exec(['python', '-m', 'pip', 'install', '--no-cache-dir', '--disable-pip-version-check', '-r', `${dir}/requirements.txt`])}`,
    `WORKDIR ${dir}`,
    // Run launchers start each run's pod from the image its code location reports.
    `ENV DAGSTER_CURRENT_IMAGE=${image}`,
    `USER ${IMAGE_USER}:${IMAGE_USER}`,
    `EXPOSE ${port}`,
    // CMD, not ENTRYPOINT: Dagster's Helm chart gives the container the whole `dagster api grpc …`
    // line as its args, which an ENTRYPOINT would prefix with a second one.
    `CMD ${exec(grpcCommand(shard, port))}`,
    '',
  ].join('\n');
}
