import { resolve } from 'node:path';

/**
 * The repository's root, where the files the service reads beside its sources live (block
 * manifests, the system prompt, the block library's pyproject.toml). On Workers there are no
 * source files (`import.meta.dirname` is undefined): wrangler ships those files as modules
 * (wrangler.toml [[rules]]) and the runtime's file system shows them under its working directory,
 * /bundle, at the same relative paths.
 */
export const REPO_ROOT = import.meta.dirname ? resolve(import.meta.dirname, '..') : process.cwd();

/** A path under the repository's root (`blocks/manifests`). */
export function fromRoot(relative: string): string {
  return resolve(REPO_ROOT, relative);
}
