import { Hono } from 'hono';
import { compress } from 'hono/compress';
import type { AppEnv } from './router.ts';
import type { WebAssets } from '../web-assets.ts';

/**
 * The page's own scripts and styles only: no inline script, no other origin. React Flow sets
 * element styles from script, hence 'unsafe-inline' for styles alone. The page is never framed.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** GET / (the page) and GET /assets/:name (its hashed, immutable files). */
export function webPageRoutes(assets: WebAssets) {
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const html = await assets.index();
      c.header('content-security-policy', PAGE_CSP);
      c.header('x-content-type-options', 'nosniff');
      c.header('referrer-policy', 'no-referrer');
      c.header('cache-control', 'no-cache');
      if (html === null) {
        return c.text('The web page is not built. Run npm run build:web (npm start builds it), then reload.', 503);
      }
      return c.html(html);
    })
    // The page's bundle is most of a first visit's bytes; gzip where the browser takes it.
    .get('/assets/:name', compress(), async (c) => {
      const file = await assets.asset(c.req.param('name'));
      if (!file) return c.notFound();
      c.header('content-type', file.type);
      c.header('x-content-type-options', 'nosniff');
      // Names carry their content's hash: a changed file is a new name.
      c.header('cache-control', 'public, max-age=31536000, immutable');
      return c.body(file.body as Uint8Array<ArrayBuffer>);
    });
}
