// The configuration schema. Key names are a contract (other tools write these files), and every field
// carries a description that error messages quote as the hint, so the schema documents itself.
import { z } from 'zod';
import { TOKEN_SCOPES } from '../contract/scopes.js';
import { BUILTIN_MODEL_IDS } from '../models/catalog.js';
import { DEFAULT_CLASSES, DEFAULT_CLASS_THRESHOLDS, DEFAULT_RIDER_THRESHOLDS } from '../vocabulary/labels.js';
import { MODEL_FORMATS } from '../vocabulary/model-formats.js';
import { curvePublicKeyOf, isZ85Key } from './z85.js';

const CAMERA_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const STREAM_URL = /^(rtsps?|rtmps?|https?|srt|udp|tcp):\/\//i;

export const DetectSchema = z
  .strictObject({
    width: z.number().int().min(32).max(3840).refine(...refineEven('width')).default(640)
      .describe('width in pixels of the frames handed to motion and detection, even, e.g. 640'),
    height: z.number().int().min(32).max(2160).refine(...refineEven('height')).default(360)
      .describe('height in pixels of the frames handed to motion and detection, even, e.g. 360'),
    fps: z.number().min(0.1).max(30).default(5)
      .describe('frames per second handed to motion and detection (0.1 to 30), e.g. 5'),
    score_threshold: z.number().min(0.01).max(1).optional()
      .describe('this camera\'s lowest detection score, instead of detector.score_threshold (unusual angles, e.g. looking straight down, score lower)'),
  })
  .describe('the size and rate ffmpeg scales each camera to before vigil sees it, e.g. { width: 640, height: 360, fps: 5 }');

function refineEven(what: string): [(n: number) => boolean, { message: string }] {
  return [(n) => n % 2 === 0, { message: `${what} must be even (yuv420p halves it for colour)` }];
}

const PointSchema = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);
const PolygonSchema = z.array(PointSchema).min(3, { message: 'a polygon needs at least 3 points' })
  .describe('points [x, y] as fractions of the frame (0..1), e.g. [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]');

const DisplayNamesSchema = z.strictObject({
  en: z.string().min(1).max(100).optional().describe('the name the English page shows'),
  zh: z.string().min(1).max(100).optional().describe('the name the Chinese page shows, e.g. 集市'),
}).default({}).describe('how the page names this place in each language, e.g. { zh: 集市 } (default: the name itself)');

export const ZoneSchema = z
  .strictObject({
    name: z.string().min(1).describe('the zone\'s name, e.g. crossing'),
    aliases: z.array(z.string().min(1)).default([]).describe('other names for the zone, e.g. [斑马线]'),
    names: DisplayNamesSchema,
    polygon: PolygonSchema,
  })
  .describe('a named area of the picture: { name, aliases, polygon }');

export const RecordSchema = z
  .strictObject({
    events: z
      .union([
        z.literal(false),
        z.strictObject({
          pre_s: z.number().min(0).max(60).default(5).describe('seconds of video kept before an event starts'),
          post_s: z.number().min(0).max(60).default(5).describe('seconds of video kept after an event ends'),
          max_clip_s: z.number().min(10).max(3600).default(300)
            .describe('longest clip, in seconds; a longer event is cut into consecutive clips'),
        }),
      ])
      .default({ pre_s: 5, post_s: 5, max_clip_s: 300 })
      .describe('a clip for every event: { pre_s, post_s, max_clip_s }, or false for none'),
    continuous: z
      .union([
        z.literal(false),
        z.strictObject({
          retention_days: z.number().min(0.01).max(3650).default(7)
            .describe('days the continuous recording is kept (inside store.max_disk_gb, oldest first)'),
        }),
      ])
      .default(false)
      .describe('keep everything the camera sends: { retention_days }, or false to keep only event clips'),
  })
  .describe("the camera's own video, copied without re-encoding: { events: { pre_s, post_s, max_clip_s }, continuous: false | { retention_days } }");

export const CameraSchema = z
  .strictObject({
    name: z.string().regex(CAMERA_NAME, { message: 'must be lower-case letters, digits and dashes, e.g. market-east' })
      .describe('unique camera name: lower-case letters, digits and dashes, e.g. market-east'),
    url: z.string().min(1)
      .describe('rtsp://user:pass@host/path, or a video file path (played in real time, looped), relative to the config file'),
    location: z.string().min(1).describe('the place officers name in searches, e.g. market'),
    location_names: DisplayNamesSchema,
    aliases: z.array(z.string().min(1)).default([]).describe('other names for that place, e.g. [集市, bazaar]'),
    enabled: z.boolean().default(true).describe('false keeps the camera in the config without pulling its stream'),
    detect: DetectSchema.default({ width: 640, height: 360, fps: 5 }),
    zones: z.array(ZoneSchema).default([]).describe('named areas recorded on the events that enter them'),
    motion_mask: z.array(PolygonSchema).default([])
      .describe('areas where motion is ignored (trees, a clock, a road outside the view), as polygons'),
    record: RecordSchema.default({ events: { pre_s: 5, post_s: 5, max_clip_s: 300 }, continuous: false }),
  })
  .describe('one camera: { name, url, location, aliases, detect, zones, motion_mask }');

export const IngestSchema = z
  .strictObject({
    stall_timeout_s: z.number().min(1).max(600).default(10)
      .describe('seconds without a byte from a running camera before it is restarted (ffmpeg hangs on hung servers)'),
    startup_timeout_s: z.number().min(1).max(600).default(20)
      .describe('seconds a camera may take from connect to its first frame before it is restarted'),
    backoff_initial_s: z.number().min(0.05).max(60).default(1).describe('first retry delay after a camera drops, in seconds'),
    backoff_max_s: z.number().min(0.1).max(3600).default(30).describe('longest retry delay, in seconds'),
    stable_after_s: z.number().min(1).max(3600).default(30)
      .describe('seconds of frames after which a camera counts as stable again and its back-off resets'),
  })
  .describe('how cameras are supervised: watchdog and retry timing');

const NormalisationSchema = z.strictObject({
  order: z.enum(['rgb', 'bgr']).describe('channel order the model expects'),
  mean: z.tuple([z.number(), z.number(), z.number()]).describe('per-channel mean subtracted from 0..255 pixels'),
  std: z.tuple([z.number(), z.number(), z.number()]).describe('per-channel divisor after the mean, e.g. [255, 255, 255]'),
});

export const CustomModelSchema = z
  .strictObject({
    path: z.string().min(1).describe('path of an ONNX file, relative to the config file'),
    format: z.enum(MODEL_FORMATS).describe(`output layout: ${MODEL_FORMATS.join(', ')}`),
    input: z.strictObject({
      width: z.number().int().min(32).max(4096).describe('model input width in pixels'),
      height: z.number().int().min(32).max(4096).describe('model input height in pixels'),
    }),
    labels: z.array(z.string().min(1)).optional().describe('class names in output order; default the 80 COCO names'),
    normalisation: NormalisationSchema.optional().describe('input normalisation; default the format\'s usual one'),
    resize: z.enum(['stretch', 'letterbox']).optional().describe('stretch the frame to the input, or keep its aspect (letterbox)'),
    decoded: z.boolean().optional().describe('yolox only: true when the export already decodes boxes'),
  })
  .describe('a drop-in ONNX model: { path, format, input: { width, height }, labels, normalisation, resize }');

export const DetectorSchema = z
  .strictObject({
    model: z.union([z.enum(BUILTIN_MODEL_IDS), CustomModelSchema]).default('nanodet-640x384-int8')
      .describe(`a built-in model (${BUILTIN_MODEL_IDS.join(', ')}; see \`vigil models list\`) or { path, format, input, ... }`),
    threads: z.union([z.literal('auto'), z.number().int().min(1).max(16)]).default('auto')
      .describe('intra-op threads per inference session; auto: see the README\'s sizing section'),
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(16)]).default('auto')
      .describe('inference worker threads, each with its own session; auto: see the README\'s sizing section'),
    pack_regions: z.boolean().default(true)
      .describe('run the 2-4 regions of one frame as tiles of a single inference instead of one inference each'),
    score_threshold: z.number().min(0.01).max(1).default(0.35).describe('lowest score a detection may have (0..1)'),
    class_thresholds: z.record(z.string(), z.number().min(0.01).max(1)).default({ ...DEFAULT_CLASS_THRESHOLDS })
      .describe('a higher or lower score_threshold for some labels, e.g. { person: 0.45 }; a camera\'s own detect.score_threshold overrides both'),
    iou_threshold: z.number().min(0.05).max(1).default(0.5).describe('overlap above which the weaker of two boxes is dropped'),
    riders: z
      .strictObject({
        join: z.boolean().default(true).describe('a bike and the people on it are one object, labelled as the bike'),
        bike_threshold: z.number().min(0.01).max(1).default(DEFAULT_RIDER_THRESHOLDS.bike)
          .describe('a bicycle or motorcycle this sure counts when a rider sits on it (under its own threshold otherwise)'),
        rider_threshold: z.number().min(0.01).max(1).default(DEFAULT_RIDER_THRESHOLDS.rider).describe('a person this sure may be a rider'),
      })
      .default({ join: true, bike_threshold: DEFAULT_RIDER_THRESHOLDS.bike, rider_threshold: DEFAULT_RIDER_THRESHOLDS.rider })
      .describe('ridden two-wheelers: { join, bike_threshold, rider_threshold }'),
    max_detections: z.number().int().min(1).max(1000).default(100).describe('most detections per image'),
    classes: z.array(z.string().min(1)).min(1).default([...DEFAULT_CLASSES])
      .describe('labels to keep, from the model\'s label list'),
  })
  .describe('the object detector: { model, threads, workers, pack_regions, score_threshold, class_thresholds, iou_threshold, riders, max_detections, classes }');

export const DETECTOR_DEFAULTS = DetectorSchema.parse({});

export const MotionSchema = z
  .strictObject({
    threshold: z.number().min(1).max(255).default(25).describe('grey-level change that counts as motion (1-255)'),
    min_area: z.number().min(0).max(1).default(0.002).describe('smallest moving area, as a fraction of the frame'),
    alpha: z.number().min(0.001).max(1).default(0.05).describe('background learning rate per frame'),
    width: z.number().int().min(32).max(640).default(160).describe('width of the grid motion is computed on'),
    recalibrate_above: z.number().min(0.1).max(1).default(0.45)
      .describe('changed fraction treated as a lighting jump (background relearnt, no motion reported)'),
    start_frames: z.number().int().min(1).max(50).default(2).describe('frames of motion before a motion event starts'),
    quiet_s: z.number().min(0.5).max(600).default(5).describe('seconds without motion before a motion event ends'),
    recheck_empty_s: z.number().min(0).max(60).default(1)
      .describe('motion where the detector just found nothing (leaves, a flag, a lamp) is detected again after this long (0: every frame)'),
  })
  .describe('motion detection and motion events');

export const TrackerSchema = z
  .strictObject({
    min_hits: z.number().int().min(1).max(20).default(3).describe('detections before a track is confirmed (and becomes an event)'),
    iou_threshold: z.number().min(0.05).max(0.95).default(0.15).describe('overlap needed to match a detection to a track'),
    max_lost_s: z.number().min(0.2).max(60).default(4).describe('seconds a moving object may go unseen before its track ends'),
    stationary_after_s: z.number().min(1).max(3600).default(8).describe('seconds without moving before an object counts as stationary'),
    stationary_check_s: z.number().min(1).max(3600).default(10).describe('how often a stationary object is looked at again'),
    stationary_max_lost_s: z.number().min(1).max(86400).default(60).describe('seconds a stationary object may go unseen before its track ends'),
    coast_s: z.number().min(0).max(5).default(0.4)
      .describe('longest a confirmed track moving as predicted goes undetected while all motion is its own (0: detect every frame with motion)'),
  })
  .describe('object tracking');

export const PlatesSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('read licence plates on tracked vehicles'),
    min_vehicle_width: z.number().int().min(16).max(4096).default(100)
      .describe('narrowest vehicle box, in detect pixels, worth reading a plate on (plates need pixels)'),
    interval_s: z.number().min(0.1).max(60).default(0.5).describe('seconds between reads of the same vehicle (doubled after each read that finds no plate, up to 8x, until it comes closer)'),
    min_reads: z.number().int().min(1).max(20).default(2).describe('agreeing reads before a plate event is recorded'),
    threads: z.number().int().min(1).max(8).default(1).describe('intra-op threads of the plate models'),
  })
  .describe('licence plates: { enabled, min_vehicle_width, interval_s, min_reads, threads }');

export const StoreSchema = z
  .strictObject({
    retention_days: z.number().min(0.01).max(3650).default(90).describe('events older than this are deleted with their snapshots'),
    max_disk_gb: z.number().min(0.01).max(100000).default(20).describe('disk budget for the store, snapshots, clips and recordings; the oldest go first'),
    flush_ms: z.number().int().min(1).max(5000).default(100).describe('longest wait before queued writes are committed together'),
  })
  .describe('the event store: { retention_days, max_disk_gb, flush_ms }');

export const RecordingSchema = z
  .strictObject({
    segment_s: z.number().min(0.5).max(10).default(1)
      .describe('segments are cut at the first keyframe after this many seconds; 1 makes a segment one GOP on most cameras, so a clip starts at most one GOP early'),
    ring_minutes: z.number().min(1).max(1440).default(10)
      .describe('minutes of segments kept on disk for event clips on cameras that do not record continuously'),
    min_free_mb: z.number().int().min(0).max(1_000_000).default(512)
      .describe('recording pauses (detection goes on) while the disk under data_dir has less free space than this, in MB'),
  })
  .describe('how cameras are recorded: { segment_s, ring_minutes, min_free_mb }');

/** tcp:// endpoints only this machine can reach; ipc:// and inproc:// never leave it. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (!endpoint.startsWith('tcp://')) return true;
  const host = /^tcp:\/\/(.+):[^:\]]+$/.exec(endpoint)?.[1]?.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host ?? '');
}

export const curveKey = (what: string) =>
  z.string().refine(isZ85Key, { message: 'must be a CURVE key: 40 characters of Z85 text, quoted, as `vigil bus keys` prints them' })
    .describe(what);

export const BusSchema = z
  .strictObject({
    publish: z.string().regex(/^(tcp|ipc|inproc):\/\//, { message: 'must be a ZeroMQ endpoint, e.g. tcp://127.0.0.1:5556' }).nullable().default('tcp://127.0.0.1:5556')
      .describe('ZeroMQ PUB endpoint events are published on, e.g. tcp://127.0.0.1:5556; null disables it; beyond loopback (e.g. tcp://0.0.0.0:5556) only with bus.curve'),
    curve: z
      .strictObject({
        public_key: curveKey('this box\'s CURVE public key, from `vigil bus keys`; subscribers set it as their server key'),
        secret_key: curveKey('this box\'s CURVE secret key, from the same `vigil bus keys` output; keep the config file 0640'),
        clients: z.array(curveKey('a subscriber\'s CURVE public key'))
          .min(1, { message: 'list the public key of at least one subscriber (each makes its own pair, e.g. with `vigil bus keys`)' })
          .describe('public keys of the subscribers admitted to the bus; the others are refused at the handshake'),
      })
      .nullable()
      .default(null)
      .describe('encryption and client authentication for the bus: { public_key, secret_key, clients }; needed to publish beyond loopback'),
  })
  .superRefine((bus, ctx) => {
    if (bus.publish && !bus.curve && !isLoopbackEndpoint(bus.publish)) {
      ctx.addIssue({
        code: 'custom',
        path: ['publish'],
        message: `${bus.publish} would let anyone who reaches this box subscribe to every event: bind it to tcp://127.0.0.1:PORT, or configure bus.curve (keys from \`vigil bus keys\`, clients: the subscribers' public keys) so that only listed subscribers get in`,
      });
    }
    if (bus.curve && !isCurvePair(bus.curve)) {
      ctx.addIssue({
        code: 'custom',
        path: ['curve', 'public_key'],
        message: 'is not the public half of bus.curve.secret_key: paste both lines from one `vigil bus keys` output',
      });
    }
  })
  .describe('the event bus: { publish, curve }');

/** False when both keys are well-formed but the public one is not the secret one's half (a paste from two outputs). */
export function isCurvePair(keys: { public_key: string; secret_key: string }): boolean {
  return !isZ85Key(keys.secret_key) || !isZ85Key(keys.public_key) || curvePublicKeyOf(keys.secret_key) === keys.public_key;
}

/** The time zone officers speak in: a box's and a hub's. */
export const TimeZoneSchema = z.string().min(1).default(Intl.DateTimeFormat().resolvedOptions().timeZone)
  .refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, { message: 'not a time zone: use an IANA name such as Asia/Shanghai' })
  .describe('the time zone officers speak in, e.g. Asia/Shanghai (default: the system\'s)');

/** How wide a bare time is, at a box and at a hub. */
export const WindowMinutesSchema = z.number().int().min(1).max(720).default(30).describe('a bare time such as 14:00 means this many minutes either side');

export const LogSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('log level'),
  })
  .default({ level: 'info' })
  .describe('logging: { level }');

const HOST_NAME = /^(\*|[a-z0-9]([a-z0-9.-]{0,252})?|\[?[0-9a-f:.]+\]?)$/i;

const TokenSchema = z.strictObject({
  name: z.string().min(1),
  token: z.string().min(16, { message: 'tokens need at least 16 characters' }),
  scopes: z
    .array(z.enum(TOKEN_SCOPES, { message: `each scope is one of ${TOKEN_SCOPES.join(', ')}` }))
    .min(1)
    .default(['read'])
    .describe('what the token may do: read (the officers\' API and page), replicate (what a station hub needs of a box: changes, status, snapshots by hash, live relay), admin (everything); default [read]'),
});

export const ApiSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('address the HTTP API and /metrics listen on, e.g. 127.0.0.1 or 0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(8080).describe('TCP port of the HTTP API and /metrics, e.g. 8080 (0 = any free port)'),
    tokens: z
      .union([
        z.literal('auto'),
        z.literal('none'),
        z.array(TokenSchema).min(1),
      ])
      .default('auto')
      .describe('bearer tokens for /api: auto (one generated into data_dir/api-token on first start, every scope), none (open: only on a box nobody else can reach), or [{ name, token, scopes }]'),
    allowed_hosts: z.array(z.string().regex(HOST_NAME, { message: 'a host name or address without port or scheme, e.g. vigil.station.lan' }).max(253)).max(64).default([])
      .describe('Host header names the page and /api answer to besides localhost, the bind address and this machine\'s names, e.g. [vigil.station.lan] (a TLS proxy\'s name); ["*"] turns the check off'),
    trusted_proxies: z.array(z.string().min(1).max(64)).max(64).default([])
      .describe('addresses (or CIDR ranges) of TLS reverse proxies in front of vigil, whose X-Forwarded-For names the real client for rate limits and the audit log, e.g. [127.0.0.1]'),
    max_connections: z.number().int().min(8).max(100_000).default(1024)
      .describe('open HTTP connections at most; more are closed at once'),
    max_connections_per_client: z.number().int().min(2).max(100_000).default(64)
      .describe('open HTTP connections one client address may hold (slow or stuck clients cannot take them all)'),
    request_timeout_s: z.number().min(1).max(600).default(30)
      .describe('seconds a client may take to send a whole request (headers within a third of it, at most 10 s)'),
    auth_failures_per_minute: z.number().int().min(1).max(10_000).default(10)
      .describe('wrong tokens or cookies one client address may present per minute before its sign-ins are refused with 429 for the rest of the minute'),
  })
  .describe('the HTTP server: { host, port, tokens, allowed_hosts, trusted_proxies, max_connections, max_connections_per_client, request_timeout_s, auth_failures_per_minute }');

export const AuditSchema = z
  .strictObject({
    max_file_mb: z.number().min(0.01).max(10_000).default(64)
      .describe('size at which data_dir/audit.log is closed and renamed audit-<time>.log, in MB'),
    retention_days: z.number().min(1).max(36_500).default(365)
      .describe('days closed audit files are kept (evidence rules expect a year)'),
  })
  .describe('the audit log of searches, views, exports and sign-ins: { max_file_mb, retention_days }');

export const ConfigSchema = z
  .strictObject({
    data_dir: z.string().min(1).default('./data').describe('where the event store and snapshots live, relative to the config file'),
    time_zone: TimeZoneSchema,
    search: z.strictObject({
      window_minutes: WindowMinutesSchema,
      quiet_camera_minutes: z.number().min(0.05).max(10_080).default(10)
        .describe('minutes a camera may stream without a person or vehicle before the page says it is quiet (an empty search may be the camera\'s fault)'),
    }).default({ window_minutes: 30, quiet_camera_minutes: 10 }).describe('search: { window_minutes, quiet_camera_minutes }'),
    cameras: z.array(CameraSchema).min(1, { message: 'list at least one camera' }).describe('the cameras this box watches'),
    api: ApiSchema.default(ApiSchema.parse({})),
    audit: AuditSchema.default(AuditSchema.parse({})),
    ffmpeg: z
      .strictObject({
        path: z.string().min(1).nullable().default(null)
          .describe('path of the ffmpeg binary; null uses the one @ffmpeg-installer/ffmpeg ships'),
        decode_threads: z.number().int().min(0).max(64).default(1)
          .describe('decoder threads per camera; 1 costs least CPU per camera (measured 28% less than auto at 720p), 0 = ffmpeg decides (for a few 4K cameras)'),
        input_args: z.array(z.string()).default([])
          .describe('extra ffmpeg input options for every camera, e.g. [-hwaccel, vaapi] for hardware decoding'),
      })
      .default({ path: null, decode_threads: 1, input_args: [] })
      .describe('which ffmpeg decodes the cameras and how: { path, decode_threads, input_args }'),
    detector: DetectorSchema.default(DETECTOR_DEFAULTS),
    motion: MotionSchema.default(MotionSchema.parse({})),
    tracker: TrackerSchema.default(TrackerSchema.parse({})),
    plates: PlatesSchema.default(PlatesSchema.parse({})),
    store: StoreSchema.default(StoreSchema.parse({})),
    recording: RecordingSchema.default(RecordingSchema.parse({})),
    bus: BusSchema.default(BusSchema.parse({})),
    ingest: IngestSchema.default({
      stall_timeout_s: 10,
      startup_timeout_s: 20,
      backoff_initial_s: 1,
      backoff_max_s: 30,
      stable_after_s: 30,
    }),
    log: LogSchema,
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.cameras.forEach((camera, i) => {
      const first = seen.get(camera.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['cameras', i, 'name'],
          message: `duplicate camera name "${camera.name}" (also cameras[${first}].name); names must be unique`,
        });
      } else {
        seen.set(camera.name, i);
      }
    });
    if (config.ingest.backoff_max_s < config.ingest.backoff_initial_s) {
      ctx.addIssue({
        code: 'custom',
        path: ['ingest', 'backoff_max_s'],
        message: 'must be at least ingest.backoff_initial_s',
      });
    }
  });

export type VigilConfig = z.infer<typeof ConfigSchema>;
export type CameraConfig = z.infer<typeof CameraSchema>;
export type IngestConfig = z.infer<typeof IngestSchema>;
export type DetectorConfig = z.infer<typeof DetectorSchema>;
export type MotionSettings = z.infer<typeof MotionSchema>;
export type TrackerConfig = z.infer<typeof TrackerSchema>;
export type StoreConfig = z.infer<typeof StoreSchema>;
export type RecordConfig = z.infer<typeof RecordSchema>;
export type RecordingConfig = z.infer<typeof RecordingSchema>;
export type ApiConfig = z.infer<typeof ApiSchema>;
export type AuditConfig = z.infer<typeof AuditSchema>;
export type PlatesConfig = z.infer<typeof PlatesSchema>;
export type ZoneConfig = z.infer<typeof ZoneSchema>;
export type CustomModelConfig = z.infer<typeof CustomModelSchema>;

export function isStreamUrl(url: string): boolean {
  return STREAM_URL.test(url);
}
