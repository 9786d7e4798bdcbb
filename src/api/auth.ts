// Who is asking. Programs send `Authorization: Bearer <token>`; the web page signs in once with the same
// token and then carries a session cookie derived from it, because a browser cannot put a header on an
// <img> request or a WebSocket. The cookie is an HMAC keyed by the token, so it needs no server-side
// state, survives a daemon restart, and dies with the token when an operator removes it from the config.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../search/audit-log.js';

export interface ApiToken {
  name: string;
  token: string;
}

export const SESSION_COOKIE = 'vigil_session';
/** A station shift; the officer signs in again after it. */
export const SESSION_HOURS = 12;

/** Routes anyone may call: the sign-in itself, and "am I signed in?". */
const OPEN_ROUTES = new Set(['POST /api/session', 'GET /api/session', 'DELETE /api/session']);

export class ApiAuth {
  private readonly who = new WeakMap<FastifyRequest, string>();

  constructor(
    /** Read at every request: the daemon replaces its contents on a config reload. */
    private readonly tokens: readonly ApiToken[],
    private readonly audit: AuditLog,
  ) {}

  /** No tokens configured: the API is open (only for a box nobody else can reach). */
  get open(): boolean {
    return this.tokens.length === 0;
  }

  /** The token's name for this request ("anonymous" when the API is open). */
  nameOf(request: FastifyRequest): string {
    return this.who.get(request) ?? 'anonymous';
  }

  register(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/api/')) return;
      const route = `${request.method} ${request.url.split('?')[0]}`;
      const name = this.identify(request);
      if (name) this.who.set(request, name);
      if (this.open || OPEN_ROUTES.has(route)) return;
      if (!name) {
        reply.header('www-authenticate', 'Bearer realm="vigil"');
        return reply.code(401).send({ error: 'sign in first: a valid bearer token (Authorization: Bearer <token>) or session is required' });
      }
      // A cookie rides along on requests other sites make; refuse changes that come from another origin.
      if (request.method !== 'GET' && request.method !== 'HEAD' && !isSameOrigin(request)) {
        return reply.code(403).send({ error: 'cross-origin request refused' });
      }
    });

    app.get('/api/session', async (request) => ({
      signed_in: this.open || this.who.has(request),
      name: this.open ? 'anonymous' : (this.who.get(request) ?? null),
      open: this.open,
    }));

    app.post('/api/session', async (request, reply) => {
      const body = (request.body ?? {}) as { token?: unknown };
      const given = typeof body.token === 'string' ? body.token.trim() : '';
      const match = this.match(given);
      if (!match) {
        this.audit.write({ who: 'unknown', via: 'api', action: 'sign-in refused', query: '', results: 0, from: request.ip });
        return reply.code(401).send({ error: 'that token is not valid' });
      }
      const expires = Date.now() + SESSION_HOURS * 3600_000;
      reply.header('set-cookie', this.cookie(request, sessionValue(match, expires), SESSION_HOURS * 3600));
      this.audit.write({ who: match.name, via: 'api', action: 'sign-in', query: '', results: 0, from: request.ip });
      return { signed_in: true, name: match.name, expires: new Date(expires).toISOString() };
    });

    app.delete('/api/session', async (request, reply) => {
      reply.header('set-cookie', this.cookie(request, '', 0));
      if (this.who.has(request)) this.audit.write({ who: this.nameOf(request), via: 'api', action: 'sign-out', query: '', results: 0, from: request.ip });
      return { signed_in: false };
    });
  }

  private identify(request: FastifyRequest): string | undefined {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) return this.match(header.slice(7).trim())?.name;
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    return cookie ? this.verifySession(cookie) : undefined;
  }

  private match(given: string): ApiToken | undefined {
    const g = Buffer.from(given);
    return this.tokens.find((t) => {
      const want = Buffer.from(t.token);
      return want.length === g.length && timingSafeEqual(want, g);
    });
  }

  private verifySession(value: string): string | undefined {
    const [encodedName, expiresText, mac] = value.split('.');
    if (!encodedName || !expiresText || !mac) return undefined;
    const expires = Number(expiresText);
    if (!Number.isFinite(expires) || expires < Date.now()) return undefined;
    const name = Buffer.from(encodedName, 'base64url').toString();
    const token = this.tokens.find((t) => t.name === name);
    if (!token) return undefined;
    const want = Buffer.from(sessionValue(token, expires).split('.')[2]!);
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got) ? name : undefined;
  }

  private cookie(request: FastifyRequest, value: string, maxAgeS: number): string {
    // Secure only behind TLS: on the station LAN the page is plain HTTP and a Secure cookie would never return.
    const secure = request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
  }
}

function sessionValue(token: ApiToken, expires: number): string {
  const mac = createHmac('sha256', token.token).update(`vigil-session|${token.name}|${expires}`).digest('base64url');
  return `${Buffer.from(token.name).toString('base64url')}.${expires}.${mac}`;
}

/** False when a browser says the request comes from a page of another origin (it always says so on POST and WebSocket). */
export function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true; // not a browser, or a same-origin navigation that sends none
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
