import type { ApiReferenceScript } from '../docs/api-reference-script.ts';
import { AppError } from '../errors.ts';
import { compress } from 'hono/compress';
import { createRouter } from './router.ts';

export const DOCS_PATH = '/docs';
export const DOCS_SCRIPT_PATH = '/docs/scalar.js';

/**
 * What the page may load: its own script and the API it describes, nothing from elsewhere (the
 * CDN Scalar defaults to would fail offline and tell a third party who reads these docs). Scalar
 * injects its stylesheet and sets style attributes, hence inline styles; no inline script runs.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Scalar's options (data-configuration): system fonts instead of fonts.scalar.com, no telemetry,
 * no AI agent, no "Generate MCP", no developer toolbar and no "Open API Client" (each offers or
 * calls Scalar's own services; the policy above would refuse their requests anyway). /mcp is
 * described in the document, and "Test Request" sends requests from the page itself.
 */
const SCALAR_CONFIGURATION = {
  withDefaultFonts: false,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  showDeveloperTools: 'never',
  hideClientButton: true,
};

const page = (scriptUrl: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Constellation Agent — API reference</title>
<link rel="icon" href="data:,">
</head>
<body>
<script id="api-reference" data-url="/openapi.json" data-configuration="${escapeAttribute(JSON.stringify(SCALAR_CONFIGURATION))}"></script>
<script src="${escapeAttribute(scriptUrl)}"></script>
</body>
</html>
`;

/**
 * GET /docs: an API reference over /openapi.json, rendered by Scalar's standalone bundle, which
 * this service serves itself at /docs/scalar.js?v=<version>. The versioned URL may be cached for
 * good; any other `v` (a page from before an upgrade) gets the current script, uncached.
 */
export function docsRoutes(script: ApiReferenceScript) {
  const unavailable = () =>
    new AppError('unavailable:docs', `The API reference page needs ${'missing' in script ? script.missing : ''}, which this service cannot find.`, {
      hint: 'Install the service with its dependencies (npm install); GET /openapi.json describes the API meanwhile.',
    });
  return createRouter()
    .get(DOCS_PATH, (c) => {
      if ('missing' in script) throw unavailable();
      c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      c.header('Cache-Control', 'no-cache');
      c.header('Referrer-Policy', 'no-referrer');
      c.header('X-Content-Type-Options', 'nosniff');
      return c.html(page(`${DOCS_SCRIPT_PATH}?v=${encodeURIComponent(script.version)}`));
    })
    // 4 MB of script, about 1 MB gzipped: compressed per request, since browsers keep it for a year.
    .get(DOCS_SCRIPT_PATH, compress(), async (c) => {
      if ('missing' in script) throw unavailable();
      const current = c.req.query('v') === script.version;
      c.header('Content-Type', 'text/javascript; charset=utf-8');
      c.header('Cache-Control', current ? 'public, max-age=31536000, immutable' : 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      return c.body(await script.read());
    });
}

const escapeAttribute = (text: string) => text.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
