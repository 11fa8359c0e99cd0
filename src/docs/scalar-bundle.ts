import { accessSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_API_REFERENCE_SCRIPT, SCALAR_PACKAGE, type ApiReferenceScript } from './api-reference-script.ts';

/**
 * Finds Scalar's standalone bundle (one self-contained script, no chunks, no CDN) in the
 * installed `@scalar/api-reference`. The package exports no path to it, so it is found beside
 * the package's main entry. Read on each request rather than held: it is 4 MB, and browsers keep
 * it for a year under its versioned URL.
 */
export function findScalarBundle(resolve: (specifier: string) => string = (s) => import.meta.resolve(s)): ApiReferenceScript {
  let main: string;
  try {
    main = fileURLToPath(resolve(SCALAR_PACKAGE));
  } catch {
    return NO_API_REFERENCE_SCRIPT;
  }
  // <package>/dist/index.js → <package>/dist/browser/standalone.js and <package>/package.json
  const file = join(dirname(main), 'browser', 'standalone.js');
  try {
    const { version } = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string };
    accessSync(file);
    return { version, read: () => readFile(file) };
  } catch {
    return { missing: `${SCALAR_PACKAGE}'s dist/browser/standalone.js` };
  }
}
