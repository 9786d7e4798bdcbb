// The officers' API: search in words or by an edited filter, list events by field, one event, its
// snapshots. Every search and every image fetched is written to the audit log (auth.ts says who).
import os from 'node:os';
import { z } from 'zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PALETTE, type ColourName } from '../vocabulary/colours.js';
import type { ApiAuth } from './auth.js';
import { badRequest, conflict, notFound } from './http-error.js';
import { queryTime } from './query-time.js';
import { eventJson } from '../events/event-json.js';
import { buildEvidence, EvidenceTamperedError } from '../events/evidence.js';
import { SnapshotUnavailableError, type SnapshotWriter } from '../events/snapshots.js';
import { InvalidCursorError, type EventQueries } from '../events/event-queries.js';
import type { StoredEvent } from '../events/store.js';
import { normalisePlate } from '../plates/plate-rules.js';
import type { AuditLog } from '../audit/audit-log.js';
import { EVENT_KINDS, PLACE_KINDS, type SearchFilter } from '../contract/search.js';
import { searchAnswerJson, type SearchService } from '../search/search-service.js';

export interface SearchApiDeps {
  store: EventQueries;
  search: SearchService;
  snapshots: SnapshotWriter;
  audit: AuditLog;
  /** Read at every export: a config reload may change it. */
  timeZone: () => string;
  version: string;
  /** A box's clips folder: evidence zips then include the event's clips. */
  clipsRoot?: string;
  /** The event's clip is still to be made (it ended moments ago): its export waits for it. */
  clipPending?: (event: StoredEvent) => boolean;
}


const DEFAULT_LIMIT = 50;

// The filter the page sends back after an officer removed a chip or picked a quick filter: the same shape
// /api/search answers with, checked field by field so a bad one is named.
const KINDS = EVENT_KINDS;
const FilterSchema: z.ZodType<SearchFilter, unknown> = z.object({
  kinds: z.array(z.enum(KINDS)).max(3).default([]),
  labels: z.array(z.string().max(40)).max(20).default([]),
  colours: z.array(z.object({ colour: z.enum(PALETTE), part: z.enum(['any', 'upper', 'lower']).default('any') })).max(12).default([]),
  places: z.array(z.object({ kind: z.enum(PLACE_KINDS), name: z.string().max(200), camera: z.string().max(200).optional() })).max(50).default([]),
  time: z.object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), around: z.iso.datetime({ offset: true }).optional() }).nullable().default(null),
  plate: z.string().max(20).nullable().default(null),
  unknown: z.array(z.string().max(100)).max(50).default([]),
});
const SearchBody = z.object({
  filter: FilterSchema,
  query: z.string().max(500).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: z.string().max(500).optional(),
});

export function registerSearchRoutes(app: FastifyInstance, deps: SearchApiDeps, auth: ApiAuth): void {
  const limitOf = (q: Record<string, string | undefined>) => {
    const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badRequest('limit must be a whole number from 1 to 500');
    return limit;
  };
  const asker = (request: FastifyRequest) => ({ who: auth.nameOf(request), via: 'api' as const, from: request.ip });
  // A cursor the store did not give is the caller's mistake, not the store's.
  const paged = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof InvalidCursorError) throw badRequest(err.message);
      throw err;
    }
  };
  app.get('/api/search', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const text = typeof q.q === 'string' ? q.q : '';
    if (text.length > 500) throw badRequest('q is longer than 500 characters');
    return searchAnswerJson(await paged(() => deps.search.search(asker(request), { text }, { limit: limitOf(q), cursor: q.cursor })));
  });

  // The same search with a filter the page edited (chips removed, quick filters added) instead of words.
  app.post('/api/search', async (request) => {
    const parsed = SearchBody.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw badRequest(`${['body', ...issue.path].join('.')}: ${issue.message}`);
    }
    const { filter, query, limit, cursor } = parsed.data;
    return searchAnswerJson(await paged(() => deps.search.search(asker(request), { text: query ?? '', filter }, { limit: limit ?? DEFAULT_LIMIT, cursor })));
  });

  app.get('/api/events', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const time = (name: 'from' | 'to'): string | undefined => {
      const ms = queryTime(q, name);
      return ms === undefined ? undefined : new Date(ms).toISOString();
    };
    const colour = q.color ?? q.colour;
    if (colour !== undefined && !PALETTE.includes(colour as ColourName)) throw badRequest(`color must be one of ${PALETTE.join(', ')}`);
    const from = time('from');
    const to = time('to');
    const kinds = q.kind ? q.kind.split(',') : [];
    const badKind = kinds.find((k) => !(KINDS as readonly string[]).includes(k));
    if (badKind !== undefined) throw badRequest(`kind must be one or more of ${KINDS.join(', ')}, comma-separated; got "${badKind}"`);
    const filter: SearchFilter = {
      kinds: kinds as SearchFilter['kinds'],
      labels: q.label ? q.label.split(',') : [],
      colours: colour ? [{ colour: colour as ColourName, part: 'any' }] : [],
      places: q.camera ? q.camera.split(',').map((name) => ({ kind: 'camera' as const, name })) : [],
      time: from || to ? { from: from ?? '1970-01-01T00:00:00Z', to: to ?? '9999-12-31T00:00:00Z' } : null,
      plate: q.plate ? normalisePlate(q.plate) : null,
      unknown: [],
    };
    // A listing by field is newest first, whatever the time range, every event on its own.
    const description = `events ${new URLSearchParams(q as Record<string, string>).toString()}`;
    const found = await paged(() => deps.search.list(asker(request), filter, { limit: limitOf(q), cursor: q.cursor }, description));
    return { events: found.events.map(eventJson), ...(found.next ? { next: found.next } : {}) };
  });

  const eventOf = async (request: FastifyRequest) => {
    const id = Number((request.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 1) throw badRequest('event id must be a positive whole number');
    const event = await deps.store.get(id);
    if (!event) throw notFound(`no event ${id}`);
    return event;
  };

  app.get('/api/events/:id', async (request) => eventJson(await eventOf(request)));

  // Served only as captured: the file is re-hashed and a picture changed since (or swapped for a link to
  // another file) is refused with 409 and audited, as the evidence export does.
  const sendSnapshot = (which: 'frame' | 'crop') => async (request: FastifyRequest, reply: FastifyReply) => {
    const event = await eventOf(request);
    const ref = event[which];
    const who = auth.nameOf(request);
    if (!ref) throw notFound(`event ${event.id} has no ${which} snapshot`);
    let bytes: Buffer;
    try {
      bytes = await deps.snapshots.readVerified(ref);
    } catch (err) {
      if (!(err instanceof SnapshotUnavailableError)) throw err;
      if (err.reason === 'missing') throw notFound(`event ${event.id} has no ${which} snapshot`);
      deps.audit.write({ who, via: 'api', action: 'snapshot refused', query: `snapshot ${which} of event ${event.id}: ${err.message}`, event: event.id, results: 0, from: request.ip });
      throw conflict(`event ${event.id}: the ${which} ${err.message}`);
    }
    deps.audit.write({ who, via: 'api', query: `snapshot ${which} of event ${event.id}`, results: 1, from: request.ip });
    reply.header('content-type', 'image/jpeg').header('x-content-sha256', ref.sha256);
    return reply.send(bytes);
  };
  app.get('/api/events/:id/snapshot.jpg', sendSnapshot('frame'));
  app.get('/api/events/:id/crop.jpg', sendSnapshot('crop'));

  // Evidence export: a zip an officer hands to an investigator. Refused (409) when a snapshot no longer
  // matches its capture hash; every export, and its own hash, goes to the audit log.
  app.get('/api/events/:id/evidence.zip', async (request, reply) => {
    const event = await eventOf(request);
    const who = auth.nameOf(request);
    // An ongoing event's snapshots are still replaced by better ones: what was exported would not be what
    // the store finally holds.
    if (event.end === null) {
      deps.audit.write({ who, via: 'api', action: 'evidence export refused', query: `event ${event.id} is still ongoing`, event: event.id, results: 0, from: request.ip });
      throw conflict(`event ${event.id} is still ongoing: export it once it has ended (its snapshots may still be replaced by better ones)`);
    }
    if (deps.clipPending?.(event)) {
      deps.audit.write({ who, via: 'api', action: 'evidence export refused', query: `event ${event.id}: its clip is still being made`, event: event.id, results: 0, from: request.ip });
      throw conflict(`event ${event.id} ended moments ago and its clip is still being made: export it in a few seconds`);
    }
    let pack;
    try {
      pack = await buildEvidence(event, deps.snapshots, { exportedBy: who, exportedAt: new Date(), version: deps.version, host: os.hostname(), timeZone: deps.timeZone() }, deps.clipsRoot);
    } catch (err) {
      if (!(err instanceof EvidenceTamperedError)) throw err;
      deps.audit.write({ who, via: 'api', action: 'evidence export refused', query: err.message, event: event.id, results: 0, from: request.ip });
      throw conflict(err.message);
    }
    deps.audit.write({ who, via: 'api', action: 'evidence export', query: pack.fileName, event: event.id, sha256: pack.sha256, results: 1, from: request.ip });
    return reply
      .header('content-type', 'application/zip')
      .header('content-disposition', `attachment; filename="${pack.fileName}"`)
      .header('x-content-sha256', pack.sha256)
      .header('cache-control', 'no-store')
      .send(Buffer.from(pack.zip.buffer, pack.zip.byteOffset, pack.zip.byteLength));
  });
}
