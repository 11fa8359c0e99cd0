import { canonicalJson } from '../canonical-json.ts';
import type { BlockType } from '../catalog/block-type.ts';
import type { BlockTypeManifest } from '../catalog/manifest-schema.ts';

/** What a block type's code is: its package's files and requirements. */
export interface PackageContent {
  files: Record<string, string>;
  requirements: string[];
}

/**
 * The version a repository block type gets from this compile: its latest registered version when
 * neither its manifest nor its package's code changed since, else the next one. Retired versions
 * count: an unchanged block whose latest version was retired stays as it is.
 */
export async function nextVersion(
  candidate: BlockTypeManifest,
  content: PackageContent,
  existing: BlockType[],
  contentOf: (pkg: string) => Promise<PackageContent | null>,
): Promise<{ version: number; changed: boolean }> {
  const latest = existing.filter((t) => t.slug === candidate.slug).sort((a, b) => b.version - a.version)[0];
  if (!latest) return { version: 1, changed: true };
  const unchanged = comparable(latest) === comparable(candidate) && (latest.origin?.package === candidate.origin?.package || sameContent(await contentOf(latest.origin?.package ?? ''), content));
  return unchanged ? { version: latest.version, changed: false } : { version: latest.version + 1, changed: true };
}

/** A manifest without what every compile sets anew: version, origin, and the package in its callable. */
function comparable(m: BlockTypeManifest): string {
  const { version: _v, origin, ref: _r, builtin: _b, retired: _x, ...rest } = m as BlockType;
  const callable = origin ? m.python.callable.replace(`${origin.package}.`, '') : m.python.callable;
  return canonicalJson({ ...rest, python: { callable } });
}

function sameContent(a: PackageContent | null, b: PackageContent): boolean {
  return a !== null && canonicalJson(a.files) === canonicalJson(b.files) && canonicalJson(a.requirements) === canonicalJson(b.requirements);
}
