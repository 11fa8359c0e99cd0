import { createHash } from 'node:crypto';

/**
 * The namespaces a repository may take, best first (docs/code-repositories.md, "Names and
 * versions"): its name (`…/acme/etl-blocks.git` → `etl_blocks`), then that name with a short
 * suffix made from the URL and org, longer each time, for when another repository has it.
 */
export function namespaceCandidates(repoUrl: string, orgId: string): string[] {
  const base = namespaceBase(repoUrl);
  const hash = createHash('sha256').update(`${orgId}\n${repoUrl}`).digest('hex');
  return [base, ...[4, 6, 8, 12].map((n) => `${base}_${hash.slice(0, n)}`)];
}

/** The repository's name as an identifier: lower snake case, a letter first, no "__" (that separates namespace and block). */
export function namespaceBase(repoUrl: string): string {
  const path = repoUrl.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1).replace(/\.git$/i, '');
  let name = last.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 24).replace(/_+$/, '');
  if (!/^[a-z]/.test(name)) name = `repo_${name}`.replace(/_+$/, '');
  return name;
}

/** The import name of one commit's code: two commits of a repository live side by side in a code location. */
export const packageName = (namespace: string, commit: string) => `constellation_repo_${namespace}_${commit.slice(0, 12)}`;
