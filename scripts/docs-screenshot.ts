/**
 * Copies the page's screenshot that the browser test took (.test-results/web-page.png) into the
 * docs (docs/web-page.png), for when someone chooses to update the README's picture: the test
 * never writes into docs/ itself, so a test run leaves the repository unchanged.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const from = join(root, '.test-results', 'web-page.png');
const to = join(root, 'docs', 'web-page.png');

if (!existsSync(from)) {
  process.stderr.write('No screenshot at .test-results/web-page.png: run the browser test first (npx vitest run --project e2e test/e2e/web-page.test.ts).\n');
  process.exit(1);
}
mkdirSync(join(root, 'docs'), { recursive: true });
copyFileSync(from, to);
process.stdout.write('docs/web-page.png updated from .test-results/web-page.png\n');
