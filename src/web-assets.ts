import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { fromRoot } from './source-path.ts';

/** The built web page (web/dist, made by scripts/build-web.ts). */
export interface WebAssets {
  /** The page's HTML, or null when the page was never built. */
  index(): Promise<string | null>;
  /** A built file under assets/ by its (hashed) name, or null. */
  asset(name: string): Promise<{ body: Uint8Array; type: string } | null>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const DEFAULT_WEB_DIST = fromRoot('web/dist');

/** Reads web/dist from disk on each request (the files are small and the OS caches them). */
export function webAssetsFromDisk(dir = DEFAULT_WEB_DIST): WebAssets {
  const read = (path: string) => readFile(path).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : Promise.reject(error)));
  return {
    index: async () => (await read(join(dir, 'index.html')))?.toString('utf8') ?? null,
    asset: async (name) => {
      // Only a plain file name in assets/: nothing that climbs out of it.
      const type = TYPES[extname(name)];
      if (!type || basename(name) !== name || name.startsWith('.')) return null;
      const body = await read(join(dir, 'assets', name));
      return body ? { body, type } : null;
    },
  };
}
