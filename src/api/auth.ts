// Who is asking, and may they. Programs send `Authorization: Bearer <token>`; the web page signs in once with
// the same token and then carries a session cookie derived from it, because a browser cannot put a header on
// an <img> request or a WebSocket. The cookie is an HMAC keyed by the token, so it survives a daemon restart
// and dies with the token when an operator removes it; a signed-out cookie is remembered until it expires.
//
// Access is decided on the route the router chose, never on the URL as spelled: `/%61pi/cameras`,
// `GET http://x/api/cameras` and `/api/cameras` are one route to the router, so they are one decision here.
// Every route needs a credential unless it is registered with `config: { access: 'public' | 'monitoring' }`,
// so a route added later is protected without anyone remembering to protect it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { SessionJson } from '../contract/types.js';
import type { TokenScope } from '../contract/scopes.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { SessionDenyList } from './session-deny-list.js';

/**
 * token: a valid credential is required (the default for every route);
 * public: anyone on an allowed Host (the page's files, signing in and out);
 * monitoring: anyone, whatever the Host header (/metrics, /healthz: scraped under names vigil cannot know).
 */
export type RouteAccess = 'token' | 'public' | 'monitoring';

export type { TokenScope };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** The scopes a token needs for this route, any one of them (default read); admin passes everywhere. */
    scopes?: TokenScope[];
  }
}

export interface ApiToken {
  name: string;
  token: string;
  scopes?: TokenScope[];
}

/** A token's scopes, the default filled in. */
export function scopesOf(token: ApiToken): TokenScope[] {
  return token.scopes?.length ? token.scopes : ['read'];
}

/** What a request proved itself with; kept so that a live socket can be closed when it stops being valid. */
interface Credential {
  kind: 'bearer' | 'cookie';
  value: string;
  name: string;
  scopes: TokenScope[];
}

type SessionCheck = { ok: true; name: string; expires: number; mac: string; scopes: TokenScope[] } | { ok: false; why: 'expired' | 'invalid' | 'revoked' };

export const SESSION_COOKIE = 'vigil_session';
/** A station shift; the officer signs in again after it. */
export const SESSION_HOURS = 12;
/** A sign-in body is one token: anything larger is not a sign-in. */
export const SIGN_IN_BODY_LIMIT = 4096;

export interface ApiAuthOptions {
  audit: AuditLog;
  /** Where signed-out cookies are remembered. */
  dataDir: string;
  /** Read at every failure: a config reload may change it. */
  failuresPerMinute: () => number;
  /** Counts refusals for metrics. */
  refused?: (reason: 'wrong-credential' | 'locked-out') => void;
}

export class ApiAuth {
  private tokens: ApiToken[];
  private readonly credentials = new WeakMap<FastifyRequest, Credential>();
  private readonly watchers = new Set<{ credential: Credential | undefined; revoked: () => void }>();
  private readonly denied: SessionDenyList;
  private readonly limiter: AuthFailureLimiter;
  private readonly audit: AuditLog;
  private readonly countRefusal: (reason: 'wrong-credential' | 'locked-out') => void;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(tokens: readonly ApiToken[], options: ApiAuthOptions) {
    this.tokens = [...tokens];
    this.audit = options.audit;
    this.denied = new SessionDenyList(options.dataDir);
    this.limiter = new AuthFailureLimiter(options.failuresPerMinute);
    this.countRefusal = options.refused ?? (() => {});
  }

  /** No tokens configured: the API is open (only for a box nobody else can reach). */
  get open(): boolean {
    return this.tokens.length === 0;
  }

  /** The token's name for this request ("anonymous" when the API is open). */
  nameOf(request: FastifyRequest): string {
    return this.credentials.get(request)?.name ?? 'anonymous';
  }

  /**
   * A config reload replaced the tokens: from now on only these are valid, and every live socket opened with
   * a credential that no longer is (a removed or changed token, its cookies) is closed at once.
   */
  replaceTokens(tokens: readonly ApiToken[]): void {
    this.tokens = [...tokens];
    this.recheck();
  }

  /**
   * Calls `revoked` once, as soon as the credential this request came with stops being valid (token removed,
   * cookie signed out or expired, or tokens configured on a box that was open). Returns the way to stop watching.
   */
  watch(request: FastifyRequest, revoked: () => void): () => void {
    const watcher = { credential: this.credentials.get(request), revoked };
    this.watchers.add(watcher);
    // Cookies expire while a live view runs: look again every minute while anything is watched.
    this.expiryTimer ??= setInterval(() => this.recheck(), 60_000).unref();
    return () => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0 && this.expiryTimer) {
        clearInterval(this.expiryTimer);
        this.expiryTimer = undefined;
      }
    };
  }

  close(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.watchers.clear();
  }

  register(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      // No route: the 404 that follows reveals nothing.
      if (request.routeOptions.url === undefined) return;
      const access = request.routeOptions.config.access ?? 'token';
      if (access === 'monitoring') return;
      const refused = this.authenticate(request, reply, access);
      if (refused) return refused;
      if (access === 'token' && !this.open) {
        const needed = request.routeOptions.config.scopes ?? ['read'];
        const held = this.credentials.get(request)?.scopes ?? [];
        if (!held.includes('admin') && !needed.some((s) => held.includes(s))) {
          this.audit.write({ who: this.nameOf(request), via: 'api', action: 'scope refused', query: `${request.method} ${request.routeOptions.url}`, results: 0, from: request.ip });
          return reply.code(403).send({ error: `the token "${this.nameOf(request)}" has scopes ${held.join(', ')}; ${request.method} ${request.routeOptions.url} needs ${needed.join(' or ')}` });
        }
      }
      // A cookie rides along on requests other sites make; refuse changes that come from another origin.
      if (request.method !== 'GET' && request.method !== 'HEAD' && !isSameOrigin(request)) {
        return reply.code(403).send({ error: 'cross-origin request refused' });
      }
    });

    const open = { config: { access: 'public' as const } };

    app.get('/api/session', open, async (request): Promise<SessionJson> => ({
      signed_in: this.open || this.credentials.has(request),
      name: this.open ? 'anonymous' : (this.credentials.get(request)?.name ?? null),
      open: this.open,
    }));

    app.post('/api/session', { ...open, bodyLimit: SIGN_IN_BODY_LIMIT }, async (request, reply) => {
      const wait = this.limiter.blockedFor(request.ip);
      if (wait > 0) return this.tooMany(request, reply, wait);
      const body = (request.body ?? {}) as { token?: unknown };
      const given = typeof body.token === 'string' ? body.token.trim() : '';
      const match = this.match(given);
      if (!match) {
        this.limiter.fail(request.ip);
        this.countRefusal('wrong-credential');
        this.audit.write({ who: 'unknown', via: 'api', action: 'sign-in refused', query: '', results: 0, from: request.ip });
        return reply.code(401).send({ error: 'that token is not valid' });
      }
      const expires = Date.now() + SESSION_HOURS * 3600_000;
      reply.header('set-cookie', this.cookie(request, sessionValue(match, expires), SESSION_HOURS * 3600));
      this.audit.write({ who: match.name, via: 'api', action: 'sign-in', query: '', results: 0, from: request.ip });
      return { signed_in: true, name: match.name, expires: new Date(expires).toISOString() };
    });

    // Signing out revokes the cookie itself, not only the browser's copy of it, and closes its live views.
    app.delete('/api/session', open, async (request, reply) => {
      reply.header('set-cookie', this.cookie(request, '', 0));
      const value = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = value ? this.verifySession(value) : undefined;
      if (session?.ok) {
        this.denied.add(session.mac, session.expires);
        this.audit.write({ who: session.name, via: 'api', action: 'sign-out', query: '', results: 0, from: request.ip });
        this.recheck();
      }
      return { signed_in: false };
    });
  }

  /** Sets the request's credential; answers the refusal (and returns it) when the route may not be served. */
  private authenticate(request: FastifyRequest, reply: FastifyReply, access: RouteAccess): FastifyReply | undefined {
    const header = request.headers.authorization;
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    const bearer = header !== undefined && /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
    if (bearer === undefined && !cookie) {
      return access === 'token' && !this.open ? this.unauthorised(reply, 'sign in first: a valid bearer token (Authorization: Bearer <token>) or session is required') : undefined;
    }
    const wait = this.limiter.blockedFor(request.ip);
    if (wait > 0) return this.tooMany(request, reply, wait);
    if (bearer !== undefined) {
      const match = this.match(bearer);
      if (match) {
        this.credentials.set(request, { kind: 'bearer', value: bearer, name: match.name, scopes: scopesOf(match) });
        return undefined;
      }
      return this.refuse(request, reply, access, 'bearer token refused', 'that bearer token is not valid');
    }
    const session = this.verifySession(cookie!);
    if (session.ok) {
      this.credentials.set(request, { kind: 'cookie', value: cookie!, name: session.name, scopes: session.scopes });
      return undefined;
    }
    // The browser should stop sending a cookie that will never work again.
    reply.header('set-cookie', this.cookie(request, '', 0));
    // An expired cookie is an officer whose shift ended, not a guess.
    if (session.why === 'expired') {
      return access === 'token' && !this.open ? this.unauthorised(reply, 'the session has expired: sign in again') : undefined;
    }
    return this.refuse(request, reply, access, `session cookie refused (${session.why})`, 'that session is not valid (signed out, or its token was removed): sign in again');
  }

  /** A wrong credential: counted and audited, wherever it was presented; refused where one is needed. */
  private refuse(request: FastifyRequest, reply: FastifyReply, access: RouteAccess, action: string, message: string): FastifyReply | undefined {
    this.limiter.fail(request.ip);
    this.countRefusal('wrong-credential');
    this.audit.write({ who: 'unknown', via: 'api', action, query: `${request.method} ${request.routeOptions.url}`, results: 0, from: request.ip });
    return access === 'token' && !this.open ? this.unauthorised(reply, message) : undefined;
  }

  private unauthorised(reply: FastifyReply, message: string): FastifyReply {
    reply.header('www-authenticate', 'Bearer realm="vigil"');
    return reply.code(401).send({ error: message });
  }

  private tooMany(request: FastifyRequest, reply: FastifyReply, waitMs: number): FastifyReply {
    const seconds = Math.ceil(waitMs / 1000);
    this.countRefusal('locked-out');
    if (this.limiter.reportRefusal(request.ip)) {
      this.audit.write({ who: 'unknown', via: 'api', action: 'credentials refused: too many failures', query: `${request.method} ${request.routeOptions.url}`, results: 0, from: request.ip });
    }
    reply.header('retry-after', String(seconds));
    return reply.code(429).send({ error: `too many wrong tokens or sessions from ${request.ip}: try again in ${seconds} s` });
  }

  private recheck(): void {
    for (const watcher of [...this.watchers]) {
      if (this.stillValid(watcher.credential)) continue;
      this.watchers.delete(watcher);
      watcher.revoked();
    }
  }

  private stillValid(credential: Credential | undefined): boolean {
    if (!credential) return this.open;
    // A reload that narrows a token's scopes ends what it opened under the wider ones.
    const same = (scopes: TokenScope[]) => scopes.length === credential.scopes.length && scopes.every((s) => credential.scopes.includes(s));
    if (credential.kind === 'bearer') {
      const match = this.match(credential.value);
      return match?.name === credential.name && same(scopesOf(match));
    }
    const session = this.verifySession(credential.value);
    return session.ok && session.name === credential.name && same(session.scopes);
  }

  private match(given: string): ApiToken | undefined {
    const g = Buffer.from(given);
    return this.tokens.find((t) => {
      const want = Buffer.from(t.token);
      return want.length === g.length && timingSafeEqual(want, g);
    });
  }

  private verifySession(value: string): SessionCheck {
    const [encodedName, expiresText, mac] = value.split('.');
    if (!encodedName || !expiresText || !mac) return { ok: false, why: 'invalid' };
    const expires = Number(expiresText);
    if (!Number.isFinite(expires)) return { ok: false, why: 'invalid' };
    const name = Buffer.from(encodedName, 'base64url').toString();
    const token = this.tokens.find((t) => t.name === name);
    if (!token) return { ok: false, why: 'invalid' };
    const want = Buffer.from(sessionValue(token, expires).split('.')[2]!);
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, why: 'invalid' };
    if (expires < Date.now()) return { ok: false, why: 'expired' };
    if (this.denied.has(mac)) return { ok: false, why: 'revoked' };
    return { ok: true, name, expires, mac, scopes: scopesOf(token) };
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
