// The officers' web page: a handful of fixed files (the HTML shell, its stylesheet, the compiled page
// modules and the JSMpeg player), read once at start and served from memory. A fixed list instead of a
// static-file server: nothing else on the disk can ever be reached through it.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../version.js';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// JSMpeg decodes in WebAssembly ('wasm-unsafe-eval'); the live view's WebSocket and every image are same-origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function webAssets(root = PROJECT_ROOT): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (url: string, file: string) => {
    const body = readFileSync(file);
    assets.set(url, { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  };
  const staticDir = path.join(root, 'src', 'web', 'static');
  const appDir = path.join(root, 'dist', 'src', 'web', 'app');
  if (!existsSync(path.join(appDir, 'main.js'))) {
    throw new Error(`the web page is not built (${appDir}/main.js is missing): run "npm run build"`);
  }
  add('/', path.join(staticDir, 'index.html'));
  for (const name of readdirSync(staticDir)) if (name !== 'index.html') add(`/static/${name}`, path.join(staticDir, name));
  for (const name of readdirSync(appDir)) if (name.endsWith('.js')) add(`/app/${name}`, path.join(appDir, name));
  const require = createRequire(import.meta.url);
  const jsmpeg = path.join(path.dirname(require.resolve('@cycjimmy/jsmpeg-player')), 'jsmpeg-player.umd.min.js');
  add('/static/vendor/jsmpeg.min.js', jsmpeg);
  return assets;
}

export function registerWebRoutes(app: FastifyInstance, assets = webAssets()): void {
  for (const [url, asset] of assets) {
    app.get(url, { config: { access: 'public' } }, async (request, reply) => {
      reply
        .header('content-type', asset.type)
        .header('etag', asset.etag)
        // Revalidate every time: after an upgrade the page must not mix old and new modules.
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
      if (asset.type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  }
}
