import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompileError } from './code-repo-store.ts';

/** What a compile reads of a checkout (docs/code-repositories.md, "The layout"); nothing else. */
export interface RepoLayout {
  /** blocks/<name>.json, by file name, as text (parsed by the manifest check). */
  manifests: Array<{ file: string; text: string }>;
  /** python/ files, path under python/ → text. */
  files: Record<string, string>;
  /** requirements.txt's lines as written (blank and comment lines included); [] when absent. */
  requirements: string[];
  /** Problems that make the whole repository unusable (limits, non-text files). */
  errors: CompileError[];
}

export const LAYOUT_LIMITS = { maxFiles: 200, maxBytes: 2 * 1024 * 1024 } as const;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the layout of a checkout; symlinks and anything not a plain file are skipped. */
export async function readLayout(dir: string): Promise<RepoLayout> {
  const errors: CompileError[] = [];
  const manifests: RepoLayout['manifests'] = [];
  for (const name of (await listFiles(join(dir, 'blocks'), false)).sort()) {
    if (!name.endsWith('.json')) continue;
    const text = decode(await readFile(join(dir, 'blocks', name)));
    if (text === null) errors.push({ file: `blocks/${name}`, message: `blocks/${name} is not UTF-8 text.`, hint: 'Save the manifest as UTF-8 JSON.' });
    else manifests.push({ file: `blocks/${name}`, text });
  }

  const files: Record<string, string> = {};
  const paths = (await listFiles(join(dir, 'python'), true)).sort();
  if (paths.length > LAYOUT_LIMITS.maxFiles) {
    errors.push({ file: 'python/', message: `python/ holds ${paths.length} files; at most ${LAYOUT_LIMITS.maxFiles} are compiled.`, hint: 'Keep only the block code and the data files it reads under python/.' });
  } else {
    let bytes = 0;
    for (const path of paths) {
      const raw = await readFile(join(dir, 'python', path));
      bytes += raw.length;
      const text = decode(raw);
      if (text === null) errors.push({ file: `python/${path}`, message: `python/${path} is not UTF-8 text; only text files are compiled.`, hint: 'Remove binary files (compiled .pyc, images, archives) from python/.' });
      else files[path] = text;
    }
    if (bytes > LAYOUT_LIMITS.maxBytes) {
      errors.push({ file: 'python/', message: `python/ holds ${(bytes / 1024 / 1024).toFixed(1)} MB; at most ${LAYOUT_LIMITS.maxBytes / 1024 / 1024} MB are compiled.`, hint: 'Keep large data out of the repository; read it at run time instead.' });
    }
  }

  const requirementsFile = await readFile(join(dir, 'requirements.txt')).catch(() => null);
  const requirementsText = requirementsFile ? decode(requirementsFile) : '';
  if (requirementsText === null) errors.push({ file: 'requirements.txt', message: 'requirements.txt is not UTF-8 text.' });
  const requirements = (requirementsText ?? '').split(/\r?\n/);
  return { manifests, files, requirements: requirements.some((l) => l.trim()) ? requirements : [], errors };
}

function decode(raw: Buffer): string | null {
  try {
    return strictUtf8.decode(raw);
  } catch {
    return null;
  }
}

/** Plain files under `dir` (recursively when asked), as paths relative to it with "/"; [] when absent. */
async function listFiles(dir: string, recursive: boolean, prefix = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    // Python's own caches are never part of the code.
    if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
    const stat = await lstat(join(dir, path));
    if (stat.isDirectory() && recursive) out.push(...(await listFiles(dir, true, path)));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}
