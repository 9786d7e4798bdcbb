// Video: an event's clip, what a camera has recorded, and an export of a time range. Every file is served only
// as it was written (hashed again when it changed on disk; refused with 409 if it no longer matches), with
// its SHA-256 in the response, and every view and export goes to the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import path from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import type { RecordingSpanJson, RecordingsJson } from '../contract/types.js';
import { BROWSER_CODECS } from '../events/event-json.js';
import type { EventStore } from '../events/store.js';
import { NoVideoError, SegmentTamperedError, type Clip } from '../recording/clip-assembler.js';
import { MAX_EXPORT_MS, type RecordingExports } from '../recording/recording-exports.js';
import type { ApiAuth } from './auth.js';
import { MediaUnavailableError, sendRange, VerifiedMedia } from './file-range.js';
import { badRequest, conflict, notFound } from './http-error.js';
import { queryTime } from './query-time.js';

export interface RecordingApiDeps {
  store: EventStore;
  /** data_dir/clips */
  clipsRoot: string;
  exports: RecordingExports;
  audit: AuditLog;
  /** The configured cameras' names (read per request: a reload may change them). */
  cameras: () => string[];
}

/** The longest window GET /api/recordings lists at once. */
const MAX_LIST_MS = 7 * 86_400_000;

export function registerRecordingRoutes(app: FastifyInstance, deps: RecordingApiDeps, auth: ApiAuth): void {
  const media = new VerifiedMedia();
  const hashHeaders = (reply: FastifyReply, sha256: string) =>
    reply.header('x-content-sha256', sha256).header('repr-digest', `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`);

  app.get('/api/events/:id/clip.mp4', async (request, reply) => {
    const id = Number((request.params as { id: string }).id);
    if (!Number.isInteger(id) || id < 1) throw badRequest('event id must be a positive whole number');
    const q = request.query as Record<string, string | undefined>;
    const part = q.part === undefined ? 0 : Number(q.part);
    if (!Number.isInteger(part) || part < 0) throw badRequest('part must be a whole number from 0');
    const event = deps.store.get(id);
    if (!event) throw notFound(`no event ${id}`);
    const clip = event.clips[part];
    const who = auth.nameOf(request);
    if (!clip) throw notFound(event.clips.length === 0 ? `event ${id} has no clip${event.end === null ? ' yet: it is still going on' : ''}` : `event ${id} has ${event.clips.length} clip parts (0 to ${event.clips.length - 1})`);
    const file = path.join(deps.clipsRoot, clip.path);
    try {
      await media.verify(file, clip.sha256);
    } catch (err) {
      if (!(err instanceof MediaUnavailableError)) throw err;
      if (err.reason === 'missing') throw notFound(`event ${id}: its clip ${clip.path} is missing`);
      deps.audit.write({ who, via: 'api', action: 'clip refused', query: `clip ${part} of event ${id}: ${err.message}`, event: id, results: 0, from: request.ip });
      throw conflict(`event ${id}: the clip ${clip.path} ${err.message}`);
    }
    // A player asks for many ranges of one clip: the first request of it is what the log needs.
    if (firstRequest(request)) {
      deps.audit.write({ who, via: 'api', query: `clip ${part} of event ${id}`, event: id, results: 1, from: request.ip });
    }
    hashHeaders(reply, clip.sha256)
      .header('x-clip-codec', clip.codec)
      .header('x-clip-browser-playable', String(BROWSER_CODECS.has(clip.codec)))
      .header('cache-control', 'private, no-cache');
    if (q.download !== undefined) reply.header('content-disposition', `attachment; filename="vigil-event-${id}${part ? `-part${part}` : ''}.mp4"`);
    return sendRange(request, reply, file, clip.bytes, 'video/mp4');
  });

  const windowOf = (request: FastifyRequest, maxMs: number) => {
    const q = request.query as Record<string, string | undefined>;
    const camera = q.camera;
    if (!camera) throw badRequest('camera is required, e.g. camera=market-east');
    if (!deps.cameras().includes(camera)) throw notFound(`no camera ${camera}`);
    const from = queryTime(q, 'from', true);
    const to = queryTime(q, 'to', true);
    if (to <= from) throw badRequest('to must be after from');
    if (to - from > maxMs) throw badRequest(`the window may be at most ${maxMs / 3_600_000} hours long`);
    return { camera, from, to, download: q.download !== undefined };
  };

  app.get('/api/recordings', async (request): Promise<RecordingsJson> => {
    const { camera, from, to } = windowOf(request, MAX_LIST_MS);
    const spans: RecordingSpanJson[] = deps.store.segments.spans(camera, from, to).map((s) => ({
      start: new Date(s.start).toISOString(),
      end: new Date(s.end).toISOString(),
      bytes: s.bytes,
      segments: s.segments,
      continuous: s.continuous,
      stream_ended: s.ended,
    }));
    return { camera, from: new Date(from).toISOString(), to: new Date(to).toISOString(), spans, max_export_s: MAX_EXPORT_MS / 1000 };
  });

  app.get('/api/recordings/export.mp4', async (request, reply) => {
    const { camera, from, to, download } = windowOf(request, MAX_EXPORT_MS);
    const who = auth.nameOf(request);
    const what = `recording of ${camera} from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
    let clip: Clip;
    try {
      clip = await deps.exports.get(camera, from, to);
    } catch (err) {
      if (err instanceof NoVideoError) throw notFound(err.message);
      if (err instanceof SegmentTamperedError) {
        deps.audit.write({ who, via: 'api', action: 'recording export refused', query: `${what}: ${err.message}`, results: 0, from: request.ip });
        throw conflict(err.message);
      }
      throw err;
    }
    const file = path.join(deps.exports.root, clip.path);
    try {
      await media.verify(file, clip.sha256);
    } catch (err) {
      if (!(err instanceof MediaUnavailableError)) throw err;
      throw conflict(`the export ${clip.path} ${err.message}`);
    }
    if (firstRequest(request)) {
      deps.audit.write({ who, via: 'api', ...(download ? { action: 'recording export' } : {}), query: what, sha256: clip.sha256, results: 1, from: request.ip });
    }
    hashHeaders(reply, clip.sha256)
      .header('x-clip-codec', clip.codec)
      .header('x-clip-start', new Date(clip.start).toISOString())
      .header('x-clip-end', new Date(clip.end).toISOString())
      .header('x-clip-truncated', String(clip.truncated))
      .header('x-clip-browser-playable', String(BROWSER_CODECS.has(clip.codec)))
      .header('cache-control', 'private, no-cache');
    if (download) {
      const stamp = new Date(clip.start).toISOString().replace(/[-:]/g, '').slice(0, 15);
      reply.header('content-disposition', `attachment; filename="vigil-${camera}-${stamp}.mp4"`);
    }
    return sendRange(request, reply, file, clip.bytes, 'video/mp4');
  });
}

/** A whole file or a player's first range of it (not a probe of its first byte, nor a seek): what the audit log records. */
function firstRequest(request: FastifyRequest): boolean {
  const range = request.headers.range;
  return !range || (/^bytes=0-/.test(range) && range.trim() !== 'bytes=0-0');
}
