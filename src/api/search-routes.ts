// The officers' API: search in words, list events by field, one event, its snapshots. Every /api route
// needs a bearer token (when tokens are configured); every search is written to the audit log.
import { createReadStream, existsSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PALETTE, type ColourName } from '../attributes/colour.js';
import { eventJson } from '../events/event-json.js';
import type { SnapshotWriter } from '../events/snapshots.js';
import { eventFromRow, type EventStore } from '../events/store.js';
import { normalisePlate } from '../plates/plate-rules.js';
import type { AuditLog } from '../search/audit-log.js';
import { parseQuery, type Place, type SearchFilter } from '../search/query-parser.js';
import { runSearch } from '../search/search.js';

export interface SearchApiDeps {
  store: EventStore;
  snapshots: SnapshotWriter;
  audit: AuditLog;
  places: Place[];
  timeZone: string;
  windowMinutes: number;
  /** name → token; empty means the API is open (only on a box nobody else can reach). */
  tokens: Array<{ name: string; token: string }>;
}

class BadRequest extends Error {}

export function registerSearchRoutes(app: FastifyInstance, deps: SearchApiDeps): void {
  const who = new WeakMap<FastifyRequest, string>();

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/') || deps.tokens.length === 0) return;
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
    const match = deps.tokens.find((t) => {
      const want = Buffer.from(t.token);
      return want.length === given.length && timingSafeEqual(want, given);
    });
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="vigil"');
      return reply.code(401).send({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
    }
    who.set(request, match.name);
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    const status = err instanceof BadRequest ? 400 : (err.statusCode ?? 500);
    if (status >= 500) app.log.error({ err }, 'api request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
  });

  const limitOf = (q: Record<string, string | undefined>) => {
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new BadRequest('limit must be a whole number from 1 to 500');
    return limit;
  };
  const page = (filter: SearchFilter, q: Record<string, string | undefined>, order: 'closest' | 'newest') => {
    try {
      return runSearch(deps.store.database, filter, { limit: limitOf(q), cursor: q.cursor, order }, (row) => eventJson(eventFromRow(row)));
    } catch (err) {
      if ((err as Error).message.startsWith('invalid cursor')) throw new BadRequest((err as Error).message);
      throw err;
    }
  };

  app.get('/api/search', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const text = typeof q.q === 'string' ? q.q : '';
    if (text.length > 500) throw new BadRequest('q is longer than 500 characters');
    const filter = parseQuery(text, { now: new Date(), timeZone: deps.timeZone, places: deps.places, windowMinutes: deps.windowMinutes });
    const result = page(filter, q, 'closest');
    deps.audit.write({ who: who.get(request) ?? 'anonymous', via: 'api', query: text, results: result.events.length, from: request.ip });
    return { query: text, filter, events: result.events, ...(result.next ? { next: result.next } : {}) };
  });

  app.get('/api/events', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const time = (name: 'from' | 'to'): string | undefined => {
      if (q[name] === undefined) return undefined;
      if (Number.isNaN(Date.parse(q[name]!))) throw new BadRequest(`${name} must be an ISO 8601 time, e.g. 2026-11-28T14:00:00+08:00`);
      return new Date(q[name]!).toISOString();
    };
    const colour = q.color ?? q.colour;
    if (colour !== undefined && !PALETTE.includes(colour as ColourName)) throw new BadRequest(`color must be one of ${PALETTE.join(', ')}`);
    const from = time('from');
    const to = time('to');
    const filter: SearchFilter = {
      labels: q.label ? q.label.split(',') : [],
      colours: colour ? [{ colour: colour as ColourName, part: 'any' }] : [],
      places: q.camera ? q.camera.split(',').map((name) => ({ kind: 'camera' as const, name })) : [],
      time: from || to ? { from: from ?? '1970-01-01T00:00:00Z', to: to ?? '9999-12-31T00:00:00Z' } : null,
      plate: q.plate ? normalisePlate(q.plate) : null,
      unknown: [],
    };
    // A listing by field is newest first, whatever the time range.
    const result = page(filter, q, 'newest');
    deps.audit.write({ who: who.get(request) ?? 'anonymous', via: 'api', query: `events ${new URLSearchParams(q as Record<string, string>).toString()}`, results: result.events.length, from: request.ip });
    return { events: result.events, ...(result.next ? { next: result.next } : {}) };
  });

  const eventOf = (request: FastifyRequest) => {
    const id = Number((request.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 1) throw new BadRequest('event id must be a positive whole number');
    const event = deps.store.get(id);
    if (!event) throw Object.assign(new Error(`no event ${id}`), { statusCode: 404 });
    return event;
  };

  app.get('/api/events/:id', async (request) => eventJson(eventOf(request)));

  const sendSnapshot = (which: 'frame' | 'crop') => async (request: FastifyRequest, reply: FastifyReply) => {
    const event = eventOf(request);
    const ref = event[which];
    const file = ref ? deps.snapshots.resolve(ref) : undefined;
    if (!ref || !file || !existsSync(file)) throw Object.assign(new Error(`event ${event.id} has no ${which} snapshot`), { statusCode: 404 });
    deps.audit.write({ who: who.get(request) ?? 'anonymous', via: 'api', query: `snapshot ${which} of event ${event.id}`, results: 1, from: request.ip });
    reply.header('content-type', 'image/jpeg').header('x-content-sha256', ref.sha256);
    return reply.send(createReadStream(file));
  };
  app.get('/api/events/:id/snapshot.jpg', sendSnapshot('frame'));
  app.get('/api/events/:id/crop.jpg', sendSnapshot('crop'));
}
