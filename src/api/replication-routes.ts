// What a station hub reads from a box, with a token of scope replicate: the committed changes after a sequence
// number (events as the bus carries them, and tombstones of events retention deleted), the box's status (its
// cameras' health, its places and vocabulary, how far its store has come), and snapshots by the SHA-256 recorded
// at capture. The box stays the source of truth; the hub pulls (docs/station.md).
import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { BoxStatusJson, ChangesJson, TombstoneJson } from '../contract/types.js';
import { eventJson } from '../events/event-json.js';
import { SnapshotUnavailableError, type SnapshotWriter } from '../events/snapshots.js';
import type { EventStore } from '../events/store.js';
import type { ApiAuth } from './auth.js';
import { badRequest, conflict, notFound } from './http-error.js';

export interface ReplicationApiDeps {
  store: Pick<EventStore, 'changes' | 'lastCommittedSeq' | 'horizonSeq' | 'storeId' | 'snapshotByHash'>;
  snapshots: SnapshotWriter;
  audit: AuditLog;
  /** The box's status besides its store's position (cameras, places, vocabulary). */
  status(): Promise<Omit<BoxStatusJson, 'store_id' | 'last_seq'>>;
}

/** Most changes one request returns: ~1 KB each, so a page stays around a megabyte. */
export const MAX_CHANGES = 2000;
const DEFAULT_CHANGES = 500;

const replicate = { config: { scopes: ['replicate' as const] } };

export function registerReplicationRoutes(app: FastifyInstance, deps: ReplicationApiDeps, auth: ApiAuth): void {
  app.get('/api/changes', replicate, async (request): Promise<ChangesJson> => {
    const q = request.query as Record<string, string | undefined>;
    const after = q.after === undefined ? 0 : Number(q.after);
    if (!Number.isSafeInteger(after) || after < 0) throw badRequest('after must be a whole number ≥ 0: the last sequence number you hold');
    const limit = q.limit === undefined ? DEFAULT_CHANGES : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CHANGES) throw badRequest(`limit must be a whole number from 1 to ${MAX_CHANGES}`);
    // The position first: a change committed between these reads is then served now or next time, never skipped.
    const lastSeq = deps.store.lastCommittedSeq;
    const changes = deps.store.changes(after, limit).map((c) =>
      'event' in c ? eventJson(c.event) : ({ seq: c.tombstone.seq, id: c.tombstone.id, deleted: true, deleted_at: new Date(c.tombstone.deletedAt).toISOString(), reason: 'retention' } satisfies TombstoneJson),
    );
    return { store_id: deps.store.storeId, changes, last_seq: Math.max(lastSeq, changes.at(-1)?.seq ?? 0), horizon_seq: deps.store.horizonSeq() };
  });

  app.get('/api/box', replicate, async (): Promise<BoxStatusJson> => ({
    ...(await deps.status()),
    store_id: deps.store.storeId,
    last_seq: deps.store.lastCommittedSeq,
  }));

  // A snapshot by the hash recorded at capture, re-hashed before it is sent: the hub verifies it again, and a
  // file changed on the box is refused here first (409), audited, as the officers' routes do.
  app.get('/api/attachments/:sha256', replicate, async (request, reply) => {
    const sha256 = (request.params as { sha256: string }).sha256;
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw badRequest('the attachment is named by its SHA-256: 64 lower-case hex digits');
    const ref = deps.store.snapshotByHash(sha256);
    if (!ref) throw notFound(`no snapshot with SHA-256 ${sha256}`);
    let bytes: Buffer;
    try {
      bytes = await deps.snapshots.readVerified(ref);
    } catch (err) {
      if (!(err instanceof SnapshotUnavailableError)) throw err;
      if (err.reason === 'missing') throw notFound(`no snapshot with SHA-256 ${sha256}`);
      deps.audit.write({ who: auth.nameOf(request), via: 'api', action: 'snapshot refused', query: `attachment ${sha256}: ${err.message}`, results: 0, from: request.ip });
      throw conflict(`the snapshot recorded as ${sha256}: ${err.message}`);
    }
    reply.header('content-type', 'image/jpeg').header('x-content-sha256', sha256);
    return reply.send(bytes);
  });
}
