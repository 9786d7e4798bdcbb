// What every request must satisfy before any route sees it, and what no client may hold: the Host it names
// (a page on another site whose name resolves to this box, DNS rebinding, must not read the API through the
// officer's browser), each query parameter at most once, a deadline for sending the request, and a share of
// the server's connections (one slow or stuck client cannot starve the others or /healthz).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface RequestLimits {
  maxConnections: number;
  maxConnectionsPerClient: number;
  requestTimeoutS: number;
}

/**
 * An HTTP server with deadlines and connection caps, for Fastify's `serverFactory`. Node checks its deadlines
 * on a timer (30 s by default): it runs every second here, so a deadline means what it says.
 */
export function guardedServer(limits: RequestLimits) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    const requestTimeout = Math.round(limits.requestTimeoutS * 1000);
    const server = createServer(
      {
        requestTimeout,
        headersTimeout: Math.round(Math.min(requestTimeout, Math.max(1000, Math.min(10_000, requestTimeout / 3)))),
        connectionsCheckingInterval: 1000,
        keepAliveTimeout: 5000,
      },
      handler,
    );
    server.maxConnections = limits.maxConnections;
    const perClient = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      const count = (perClient.get(address) ?? 0) + 1;
      if (count > limits.maxConnectionsPerClient) {
        socket.destroy();
        return;
      }
      perClient.set(address, count);
      socket.once('close', () => {
        const left = (perClient.get(address) ?? 1) - 1;
        if (left <= 0) perClient.delete(address);
        else perClient.set(address, left);
      });
    });
    return server;
  };
}

/**
 * Host names the page and /api answer to: loopback names always (a rebinding page cannot send them), the
 * machine's own names, the bind address (every interface address when bound to all), and the configured ones.
 * `*` among the configured names turns the check off.
 */
export function allowedHosts(bindHost: string, configured: readonly string[]): Set<string> | null {
  if (configured.includes('*')) return null;
  const names = new Set(['localhost', '127.0.0.1', '::1', ...configured.map(normaliseHost)]);
  names.add(normaliseHost(os.hostname()));
  names.add(normaliseHost(os.hostname().split('.')[0]!));
  names.add(normaliseHost(bindHost));
  if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]') {
    for (const addresses of Object.values(os.networkInterfaces())) for (const a of addresses ?? []) names.add(normaliseHost(a.address));
  }
  return names;
}

/** The host part of a Host header or URL authority, lower-case, without port or IPv6 brackets. */
export function hostOf(authority: string): string {
  const text = authority.trim().toLowerCase();
  if (text.startsWith('[')) return text.slice(1, text.indexOf(']') > 0 ? text.indexOf(']') : undefined);
  const colons = text.split(':').length - 1;
  // One colon: host:port; more: a bare IPv6 address (not valid in a Host header, but no port to strip).
  // A trailing dot names the same host (an absolute DNS name).
  return (colons === 1 ? text.slice(0, text.indexOf(':')) : text).replace(/\.$/, '');
}

function normaliseHost(name: string): string {
  return hostOf(name.split(':').length > 2 && !name.startsWith('[') ? `[${name}]` : name);
}

export function registerRequestGuard(app: FastifyInstance, hosts: () => Set<string> | null): void {
  closeRefusedUpgrades(app);
  app.addHook('onRequest', async (request, reply) => {
    // Monitoring is scraped under names vigil cannot know (a container's service name); it carries no secrets.
    if (request.routeOptions.config.access !== 'monitoring') {
      const allowed = hosts();
      const misdirected = allowed ? requestHosts(request).find((h) => !allowed.has(h)) : undefined;
      if (misdirected !== undefined) {
        return reply.code(421).send({ error: `this server does not answer to the host name "${misdirected}"; add it to api.allowed_hosts if it is yours` });
      }
    }
    const query = request.query as Record<string, unknown> | undefined;
    for (const [name, value] of Object.entries(query ?? {})) {
      if (Array.isArray(value)) {
        return reply.code(400).send({ error: `query parameter "${name}" is given ${value.length} times; give it once (several values: ${name}=a,b)` });
      }
    }
  });
}

/**
 * A refused WebSocket upgrade is answered over a socket the HTTP server no longer manages (no deadlines, no
 * keep-alive handling): close it once the refusal is sent, or it stays open for as long as the client likes.
 */
export function closeRefusedUpgrades(app: FastifyInstance): void {
  app.addHook('onResponse', async (request) => {
    if (request.raw.headers.upgrade !== undefined) request.raw.socket?.destroy();
  });
}

/** The Host header's name and, for an absolute-form request line (GET http://x/api/...), the URL's. */
function requestHosts(request: FastifyRequest): string[] {
  const hosts = [hostOf(request.headers.host ?? '')];
  const url = request.raw.url ?? '';
  if (!url.startsWith('/')) {
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1];
    if (authority !== undefined) hosts.push(hostOf(authority.slice(authority.lastIndexOf('@') + 1)));
  }
  return hosts;
}
