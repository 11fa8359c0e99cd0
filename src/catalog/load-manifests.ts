import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import { fromRoot } from '../source-path.ts';
import { compileConfigSchema } from './config-validator.ts';
import { manifestSchema, type BlockTypeManifest } from './manifest-schema.ts';

export const MANIFEST_DIR = fromRoot('blocks/manifests');

/**
 * Reads and checks every manifest in `dir`. One bad file stops start-up with its name, the field
 * and what is wrong, since a catalog with a broken block would mislead every model that reads it.
 */
export function loadManifests(dir: string = MANIFEST_DIR): BlockTypeManifest[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const manifests: BlockTypeManifest[] = [];
  const problems: string[] = [];
  for (const file of files) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      problems.push(`${file}: not valid JSON (${(error as Error).message})`);
      continue;
    }
    const parsed = manifestSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${file}: /${issue.path.join('/')}: ${issue.message}`);
      continue;
    }
    const manifest = parsed.data;
    if (`${manifest.slug}.json` !== file) problems.push(`${file}: file name must be "${manifest.slug}.json"`);
    // Built-ins run the library's own code; a repository's package and origin come only from a compile.
    if (!manifest.python.callable.startsWith('constellation_blocks.')) problems.push(`${file}: /python/callable: use "constellation_blocks.module:function"`);
    if (manifest.origin) problems.push(`${file}: /origin: only block types registered from a code repository have an origin`);
    try {
      compileConfigSchema(manifest.config_schema);
    } catch (error) {
      problems.push(`${file}: /config_schema is not a usable JSON Schema: ${(error as Error).message}`);
    }
    manifests.push(manifest);
  }
  if (problems.length) {
    throw new AppError('invalid:manifest', `Block manifests in ${dir} are invalid:\n${problems.join('\n')}`);
  }
  return manifests;
}
