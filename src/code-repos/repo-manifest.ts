import { z } from 'zod';
import { compileConfigSchema } from '../catalog/config-validator.ts';
import { manifestSchema } from '../catalog/manifest-schema.ts';
import { ID_MAX_LENGTH } from '../pipelines/ids.ts';
import type { CompileError } from './code-repo-store.ts';

/**
 * A manifest as a repository writes it (docs/code-repositories.md, "A manifest"): the catalog's
 * schema without `version` (the service numbers versions) and `origin` (the compile sets it), a
 * callable relative to python/, and one asset per block.
 */
export const repoManifestSchema = manifestSchema
  .omit({ version: true, origin: true })
  .extend({
    python: z
      .object({
        callable: z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*:[a-z_][a-z0-9_]*$/, 'use "module:function", the module relative to python/ (e.g. "greeting:make_rows")'),
      })
      .strict(),
    compiles_to: z.literal('asset', { message: 'a repository block is one asset: use "asset"' }),
  })
  .strict();

export type RepoManifest = z.infer<typeof repoManifestSchema>;

/** The manifest of `file`, or every problem with it, each naming the file and the field. */
export function parseRepoManifest(file: string, text: string, namespace: string): { manifest: RepoManifest } | { errors: CompileError[] } {
  const fail = (path: string, message: string, hint?: string) => ({ errors: [{ file, path, message: `${file}: ${path || 'the manifest'}: ${message}`, ...(hint ? { hint } : {}) }] });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail('', `not valid JSON (${(error as Error).message})`);
  }
  const parsed = repoManifestSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => {
        const path = `/${issue.path.join('/')}`;
        return { file, path, message: `${file}: ${path}: ${issue.message}` };
      }),
    };
  }
  const manifest = parsed.data;
  const base = file.replace(/^blocks\//, '');
  if (`${manifest.slug}.json` !== base) return fail('/slug', `"${manifest.slug}" does not match the file name`, `Name the file blocks/${manifest.slug}.json, or set "slug" to "${base.replace(/\.json$/, '')}".`);
  const registered = `${namespace}__${manifest.slug}`;
  if (registered.length > ID_MAX_LENGTH) {
    return fail('/slug', `"${registered}" (namespace and slug) is longer than ${ID_MAX_LENGTH} characters`, 'Use a shorter slug.');
  }
  try {
    compileConfigSchema(manifest.config_schema);
  } catch (error) {
    return fail('/config_schema', `not a usable JSON Schema: ${(error as Error).message}`);
  }
  return { manifest };
}
