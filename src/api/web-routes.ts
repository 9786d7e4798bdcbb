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
// The player injects one <style> element of its own when it loads: that exact text is allowed by its hash, so
// the browser neither blocks it with a console error nor allows any other inline style.
const csp = (styleHashes: readonly string[]) => [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  `style-src 'self'${styleHashes.map((hash) => ` '${hash}'`).join('')}`,
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The CSS the JSMpeg bundle injects at load (its style-inject helper's argument, a JS string literal), as a
 * CSP hash source; none when the bundle has no such call.
 */
export function injectedStyleHashes(bundle: string): string[] {
  const hashes: string[] = [];
  // The helper appends its <style> element before putting the text in it: the browser checks it empty first.
  const empty = `sha256-${createHash('sha256').update('').digest('base64')}`;
  for (const m of bundle.matchAll(/createTextNode\(\w+\)\)\}\}\(("(?:[^"\\]|\\.)*")/g)) {
    const css = JSON.parse(m[1]!) as string;
    hashes.push(`sha256-${createHash('sha256').update(css).digest('base64')}`);
  }
  return hashes.length ? [empty, ...hashes] : [];
}

export function webAssets(root = PROJECT_ROOT): { assets: Map<string, Asset>; csp: string } {
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
  // Browsers ask for /favicon.ico whatever the page links: the same icon, instead of a 404 in the console.
  assets.set('/favicon.ico', assets.get('/static/favicon.svg')!);
  return { assets, csp: csp(injectedStyleHashes(assets.get('/static/vendor/jsmpeg.min.js')!.body.toString('utf8'))) };
}

export function registerWebRoutes(app: FastifyInstance, { assets, csp } = webAssets()): void {
  for (const [url, asset] of assets) {
    app.get(url, { config: { access: 'public' } }, async (request, reply) => {
      reply
        .header('content-type', asset.type)
        .header('etag', asset.etag)
        // Revalidate every time: after an upgrade the page must not mix old and new modules.
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
      if (asset.type.startsWith('text/html')) reply.header('content-security-policy', csp).header('x-frame-options', 'DENY');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  }
}
