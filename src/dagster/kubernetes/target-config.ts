import { z } from 'zod';

/**
 * The `kubernetes` block of an environment whose Dagster runs on Kubernetes (`target: kubernetes`):
 * where its code servers run and which images they run. Every value here ends up in a Dockerfile
 * or a manifest, so each is held to the grammar Kubernetes or the image reference has, not just
 * "a string": nothing else can reach those files.
 */

/** A DNS-1123 label: namespaces, Deployment and Service names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain: Secret names. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// An image repository as the distribution spec writes it: an optional registry host (with a
// port), then lowercase path components joined by '/'.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?';
/** An image repository without a tag or digest, e.g. registry.example.com/data/constellation. */
export const IMAGE_REPOSITORY = new RegExp(`^${REGISTRY}${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
/** A full image reference: repository, then a tag, a digest, or both. */
export const IMAGE_REFERENCE = new RegExp(`^${REGISTRY}${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
/** A Kubernetes resource quantity such as 250m, 1.5, 512Mi, 2G. */
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const quantities = z
  .object({
    cpu: z.string().regex(QUANTITY, 'a Kubernetes quantity such as 250m or 1').optional(),
    memory: z.string().regex(QUANTITY, 'a Kubernetes quantity such as 512Mi or 2Gi').optional(),
  })
  .strict();

export const kubernetesSchema = z
  .object({
    namespace: z.string().regex(DNS_LABEL, 'a Kubernetes namespace name: lowercase letters, digits and "-", at most 63').describe('Namespace of the code servers (give each environment its own)'),
    image: z
      .string()
      .max(200)
      .regex(IMAGE_REPOSITORY, 'an image repository without a tag, such as registry.example.com/data/constellation')
      .describe('Repository prefix of the shard images: <image>/<shard>:<content hash>'),
    base_image: z.string().max(255).regex(IMAGE_REFERENCE, 'an image reference such as python:3.12-slim').describe('Image with Python and pip the shard images start FROM'),
    port: z.number().int().min(1024).max(65535).default(4000).describe('Port each code server listens on'),
    // Tags are content hashes, never moved: what is pulled once is what the tag names.
    image_pull_policy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
    secret_name: z.string().regex(DNS_SUBDOMAIN, 'a Kubernetes Secret name: lowercase letters, digits, "-" and "."').describe('Secret whose keys become the environment variables of code servers and runs'),
    resources: z.object({ requests: quantities.optional(), limits: quantities.optional() }).strict().optional(),
  })
  .strict();

export interface KubernetesTarget {
  namespace: string;
  /** Repository prefix: a shard's image is `<image>/<shard's DNS name>:<content hash>`. */
  image: string;
  baseImage: string;
  port: number;
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  secretName: string;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
}

export function toKubernetesTarget(raw: z.infer<typeof kubernetesSchema>): KubernetesTarget {
  return {
    namespace: raw.namespace,
    image: raw.image,
    baseImage: raw.base_image,
    port: raw.port,
    imagePullPolicy: raw.image_pull_policy,
    secretName: raw.secret_name,
    ...(raw.resources ? { resources: raw.resources } : {}),
  };
}

/** The fields of an environment the rules below read. */
interface TargetFields {
  target: 'local' | 'kubernetes';
  kubernetes?: unknown;
  graphql_url: string | null;
  secrets: string[] | 'inherit';
  table_storage?: { url: string } | undefined;
  code_servers?: 'files' | 'grpc';
}

interface Issue {
  path: string[];
  message: string;
}

/**
 * What an environment's other fields must say for its target, each with how to fix it. A cluster
 * shares nothing with this machine: its secrets are the keys of a Kubernetes Secret (so they are
 * listed, not inherited from this process), values pass between run pods through S3, and this
 * service never reloads the cluster's Dagster.
 */
export function targetIssues(env: TargetFields): Issue[] {
  if (env.target !== 'kubernetes') {
    return env.kubernetes === undefined ? [] : [{ path: ['kubernetes'], message: 'kubernetes is read only with target: kubernetes; add target: kubernetes, or remove kubernetes' }];
  }
  const issues: Issue[] = [];
  if (env.kubernetes === undefined) {
    issues.push({ path: ['kubernetes'], message: 'required with target: kubernetes: namespace, image (repository prefix), base_image and secret_name (README, "Running on Kubernetes")' });
  }
  if (env.graphql_url !== null) {
    issues.push({
      path: ['graphql_url'],
      message: 'must be null with target: kubernetes: this service writes the images and manifests a cluster runs and never reloads that cluster\'s Dagster; remove graphql_url',
    });
  }
  if (env.secrets === 'inherit') {
    issues.push({ path: ['secrets'], message: 'list the secret names (the keys of kubernetes.secret_name) with target: kubernetes: a cluster does not inherit this service\'s environment variables' });
  }
  if (env.code_servers === 'grpc') {
    issues.push({ path: ['code_servers'], message: 'is for a Dagster on this machine; with target: kubernetes each shard\'s code server is a Deployment of the cluster: remove code_servers' });
  }
  if (!env.table_storage?.url.startsWith('s3://')) {
    issues.push({ path: ['table_storage'], message: 'an s3:// url is required with target: kubernetes: each run runs in its own pod, so values pass between assets through storage every pod reaches' });
  }
  return issues;
}

/** Two environments whose code servers share a namespace would write Deployments of the same names over each other. */
export function namespaceIssues(environments: Record<string, { target: string; kubernetes?: { namespace: string } | undefined }>): Issue[] {
  const seen = new Map<string, string>();
  const issues: Issue[] = [];
  for (const [name, env] of Object.entries(environments)) {
    const namespace = env.target === 'kubernetes' ? env.kubernetes?.namespace : undefined;
    if (!namespace) continue;
    const other = seen.get(namespace);
    if (other) issues.push({ path: ['environments', name, 'kubernetes', 'namespace'], message: `"${namespace}" is environment ${other}'s namespace too; give each environment its own` });
    else seen.set(namespace, name);
  }
  return issues;
}
