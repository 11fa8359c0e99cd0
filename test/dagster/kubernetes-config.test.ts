import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../src/dagster/environments.ts';
import { clusterName, shardImage } from '../../src/dagster/kubernetes/names.ts';
import { shardDockerfile } from '../../src/dagster/kubernetes/dockerfile.ts';

const load = (yaml: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-envs-'));
  writeFileSync(join(dir, 'environments.yaml'), yaml);
  return loadEnvironments({ file: join(dir, 'environments.yaml'), dataDir: dir, defaultGraphqlUrl: '' });
};

/** A production environment on Kubernetes, with `extra` lines of its own (YAML flow mappings, indented under it). */
const cluster = (kubernetes: string, extra = '') =>
  [
    'environments:',
    '  production:',
    '    workspace_dir: prod',
    '    target: kubernetes',
    '    secrets: [SOURCE_DB_URL, WAREHOUSE_URL]',
    '    table_storage: {url: "s3://lake-values/dagster", endpoint: "http://garage:3900"}',
    `    kubernetes: ${kubernetes}`,
    extra,
  ].join('\n');
const GOOD = '{namespace: dagster-prod, image: registry.example.com/data/constellation, base_image: "python:3.12-slim", secret_name: pipeline-secrets}';

describe('DAGSTER_ENVIRONMENTS: target: kubernetes', () => {
  it('reads the kubernetes block, with its defaults; environments without one stay local', () => {
    const envs = load(`${cluster(GOOD)}\n  development: {workspace_dir: ws}\n`);
    expect(envs.get('production')!.kubernetes).toEqual({
      namespace: 'dagster-prod',
      image: 'registry.example.com/data/constellation',
      baseImage: 'python:3.12-slim',
      port: 4000,
      imagePullPolicy: 'IfNotPresent',
      secretName: 'pipeline-secrets',
    });
    expect(envs.get('development')!.kubernetes).toBeUndefined();
    const tuned = load(cluster('{namespace: ns, image: "localhost:5000/c", base_image: "python@sha256:' + 'a'.repeat(64) + '", port: 3030, image_pull_policy: Always, secret_name: s, resources: {requests: {cpu: 250m, memory: 512Mi}, limits: {memory: 1Gi}}}'));
    expect(tuned.get('production')!.kubernetes).toMatchObject({ port: 3030, imagePullPolicy: 'Always', resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } } });
  });

  it('requires the kubernetes block with target: kubernetes, and refuses it without', () => {
    expect(() => load('environments:\n  production: {workspace_dir: prod, target: kubernetes, secrets: [], table_storage: {url: "s3://lake-values/x", endpoint: "http://g:1"}}\n')).toThrow(
      /\/environments\/production\/kubernetes: required with target: kubernetes: namespace, image \(repository prefix\), base_image and secret_name/,
    );
    expect(() => load(`environments:\n  development: {workspace_dir: ws, kubernetes: ${GOOD}}\n`)).toThrow(/\/environments\/development\/kubernetes: kubernetes is read only with target: kubernetes/);
  });

  it('names each field that does not fit a cluster, and how to fix it', () => {
    const error = (() => {
      try {
        load(`environments:\n  production: {workspace_dir: prod, target: kubernetes, code_servers: grpc, graphql_url: "http://127.0.0.1:3000/graphql", kubernetes: ${GOOD}}\n`);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(error).toMatch(/\/environments\/production\/graphql_url: must be null with target: kubernetes/);
    expect(error).toMatch(/\/environments\/production\/secrets: list the secret names \(the keys of kubernetes.secret_name\)/);
    expect(error).toMatch(/\/environments\/production\/table_storage: an s3:\/\/ url is required with target: kubernetes/);
    expect(error).toMatch(/\/environments\/production\/code_servers: is for a Dagster on this machine; with target: kubernetes each shard's code server is a Deployment/);
  });

  it.each([
    ['namespace', '{namespace: Dagster_Prod, image: r/c, base_image: python, secret_name: s}', /kubernetes\/namespace: a Kubernetes namespace name/],
    ['image with a tag', '{namespace: ns, image: "r/c:latest", base_image: python, secret_name: s}', /kubernetes\/image: an image repository without a tag/],
    ['image with a space', '{namespace: ns, image: "r/c\\nRUN x", base_image: python, secret_name: s}', /kubernetes\/image: an image repository without a tag/],
    ['base image', '{namespace: ns, image: r/c, base_image: "python:3.12 AS x", secret_name: s}', /kubernetes\/base_image: an image reference/],
    ['secret name', '{namespace: ns, image: r/c, base_image: python, secret_name: Pipeline_Secrets}', /kubernetes\/secret_name: a Kubernetes Secret name/],
    ['port', '{namespace: ns, image: r/c, base_image: python, secret_name: s, port: 80}', /kubernetes\/port/],
    ['quantity', '{namespace: ns, image: r/c, base_image: python, secret_name: s, resources: {limits: {memory: "1 GB"}}}', /kubernetes\/resources\/limits\/memory: a Kubernetes quantity/],
    ['unknown key', '{namespace: ns, image: r/c, base_image: python, secret_name: s, replicas: 3}', /kubernetes: Unrecognized key: "replicas"/],
  ])('refuses a bad %s, naming the field', (_what, block, message) => {
    expect(() => load(cluster(block))).toThrow(message);
  });

  it('refuses two environments in one namespace (their Deployments would have the same names)', () => {
    const second = `  staging: {workspace_dir: stg, target: kubernetes, secrets: [], table_storage: {url: "s3://lake-values/s", endpoint: "http://g:1"}, kubernetes: ${GOOD}}`;
    expect(() => load(cluster(GOOD, second))).toThrow(/\/environments\/staging\/kubernetes\/namespace: "dagster-prod" is environment production's namespace too/);
  });
});

describe('names on the cluster', () => {
  it('turns a shard name into a DNS label, and a long one into a unique label of at most 63 characters', () => {
    expect(clusterName('acme_shard_12')).toBe('acme-shard-12');
    const a = clusterName(`${'a_very_long_org_slug_'.repeat(4)}one_shard_1`);
    const b = clusterName(`${'a_very_long_org_slug_'.repeat(4)}two_shard_1`);
    for (const name of [a, b]) expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])$/);
    expect(a).not.toBe(b);
    expect(() => clusterName('constellation_system')).toThrow(/not a shard's name/);
  });

  it('tags a shard\'s image with a content hash under the environment\'s repository prefix', () => {
    const target = { namespace: 'ns', image: 'registry.example.com/data/c', baseImage: 'python:3.12-slim', port: 4000, imagePullPolicy: 'IfNotPresent' as const, secretName: 's' };
    expect(shardImage(target, 'acme_shard_1', '0123456789abcdef').ref).toBe('registry.example.com/data/c/acme-shard-1:0123456789abcdef');
    expect(() => shardImage(target, 'acme_shard_1', 'latest')).toThrow(/not a content hash/);
  });

  it('writes no Dockerfile line from a value that is not an image reference, even when called directly', () => {
    const input = { shard: 'acme_shard_1', image: 'r/acme-shard-1:0123456789abcdef', baseImage: 'python:3.12-slim', port: 4000, path: 'kubernetes/images/acme-shard-1/Dockerfile' };
    expect(shardDockerfile(input)).toContain('FROM python:3.12-slim\n');
    expect(() => shardDockerfile({ ...input, baseImage: 'python\nRUN curl evil' })).toThrow(/not an image reference/);
    expect(() => shardDockerfile({ ...input, shard: 'x; rm -rf /' })).toThrow(/not a shard's name/);
  });
});
