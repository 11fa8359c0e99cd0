import { createHash } from 'node:crypto';
import { parseShardName } from '../shard-files.ts';
import { DNS_LABEL, type KubernetesTarget } from './target-config.ts';

/**
 * Names on the cluster for a shard (`<org slug>_shard_<n>`): the Deployment, its Service (the host
 * the workspace names) and its image. They are derived from the shard's name, which the service
 * made from a validated org slug and a number, never from text a user typed.
 */

const MAX_LABEL = 63;

/**
 * The shard's DNS-1123 label: `acme_shard_1` → `acme-shard-1`. A name too long for a label keeps
 * its start and ends in a hash of the whole name, so that two long org slugs that begin alike
 * still get two names. Shard names start with a letter, so the label is a DNS-1035 Service name too.
 */
export function clusterName(shard: string): string {
  if (!parseShardName(shard)) throw new Error(`clusterName: ${JSON.stringify(shard)} is not a shard's name`);
  const label = shard.replace(/_/g, '-');
  if (label.length <= MAX_LABEL) return label;
  const hash = createHash('sha256').update(shard).digest('hex').slice(0, 8);
  const name = `${label.slice(0, MAX_LABEL - hash.length - 1).replace(/-+$/, '')}-${hash}`;
  if (!DNS_LABEL.test(name)) throw new Error(`clusterName: made ${name} from ${shard}, not a DNS label`);
  return name;
}

/** The host a workspace entry names: the shard's Service in its namespace (cluster-local DNS). */
export const serviceHost = (target: KubernetesTarget, shard: string) => `${clusterName(shard)}.${target.namespace}.svc`;

/** A shard's image: its own repository under the environment's prefix, tagged with what it holds (see clusterFiles). */
export function shardImage(target: KubernetesTarget, shard: string, contentHash: string): { repository: string; tag: string; ref: string } {
  if (!/^[a-f0-9]{12,64}$/.test(contentHash)) throw new Error(`shardImage: ${JSON.stringify(contentHash)} is not a content hash`);
  const repository = `${target.image}/${clusterName(shard)}`;
  return { repository, tag: contentHash, ref: `${repository}:${contentHash}` };
}
