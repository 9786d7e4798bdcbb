// Video evidence end to end: real street footage from the test RTSP server through a real daemon, whose cameras'
// ffmpeg also copy the stream into segments; every event gets an MP4 clip. The clips are checked as an
// investigator would: their length against the window asked for, every frame decoded, the SHA-256 against the
// row, the moving object visible where the track was; then the API (Range, hashes, 409 once a file is changed),
// the recordings list and a range export, the evidence zip with `sha256sum -c`, and an H.265 camera.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventJson, RecordingsJson } from '../../src/contract/types.js';
import { bundledFfmpegPath } from '../../src/ingest/ffmpeg.js';
import { DETECT_640x360_5FPS, writeDaemonConfig } from '../harness/daemon-config.js';
import { sample, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { MEDIA_DIR } from '../harness/media.js';
import { sharedFixture } from '../harness/media-paths.js';
import { startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { streetClips } from '../harness/street-clips.js';
import { decodeErrors, greyFrameAt, meanDifference, videoInfo } from '../harness/video-probe.js';
import { waitFor } from '../harness/wait.js';

/** The fixtures' keyframe interval (both street clips: a keyframe every 2 s). */
const GOP_S = 2;
const PRE_S = 2;
const POST_S = 2;

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-recording-'));
const data = path.join(dir, 'data');
let server: RtspServerProcess;
let daemon: DaemonProcess;
let token: string;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const get = (url: string, headers: Record<string, string> = {}) => fetch(`${daemon.address}${url}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
const events = async (camera: string): Promise<EventJson[]> =>
  ((await (await get(`/api/events?camera=${camera}&limit=200`)).json()) as { events: EventJson[] }).events;

/** The street clip re-encoded as H.265 (as many cameras send), 640x360, a keyframe every 2 s; cached. */
function hevcClip(): string {
  const file = path.join(MEDIA_DIR, 'lot-hevc-640x360.mp4');
  try {
    readFileSync(file, { flag: 'r' }).subarray(0, 1);
    return file;
  } catch {
    mkdirSync(MEDIA_DIR, { recursive: true });
    execFileSync(bundledFfmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', sharedFixture('video/intel-car-detection-720p12.5.mp4'), '-t', '12',
      '-vf', 'scale=640:360', '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=25:min-keyint=25:log-level=error', '-an', file]);
    return file;
  }
}

beforeAll(async () => {
  const { lot } = await streetClips();
  server = await startRtspServer([lot]);
  const record = { events: { pre_s: PRE_S, post_s: POST_S, max_clip_s: 60 } };
  const file = writeDaemonConfig(dir, {
    cameras: [
      { name: 'lot', url: server.url('lot'), location: 'parking lot', detect: { ...DETECT_640x360_5FPS, score_threshold: 0.17 }, record },
      { name: 'hevc', url: hevcClip(), location: 'gate', detect: { ...DETECT_640x360_5FPS, score_threshold: 0.17 }, record },
    ],
    busPort: null,
    store: { flush_ms: 50 },
    extra: { recording: { segment_s: 1, ring_minutes: 10, min_free_mb: 0 } },
  });
  daemon = await startDaemonProcess(['--config', file]);
  token = readFileSync(path.join(data, 'api-token'), 'utf8').trim();
}, 180_000);

afterAll(async () => {
  await daemon?.stop();
  await server?.stop();
});

describe('a clip for every event', () => {
  let event: EventJson;

  it('gives an ended object event a faststart MP4 from pre_s before to post_s after, within one GOP, every frame decoding, hashed as in its row', async () => {
    // A car that drove (not one parked in view): its clip must show it moving.
    const drove = (e: EventJson) => {
      const p = e.path ?? [];
      if (p.length < 4 || !e.box) return false;
      const [x1, y1, x2, y2] = e.box as [number, number, number, number];
      return Math.hypot(p[p.length - 1]![1] - p[0]![1], p[p.length - 1]![2] - p[0]![2]) > Math.min(x2 - x1, y2 - y1);
    };
    event = (await waitFor('an ended event of a car that drove, with its clip', async () => {
      return (await events('lot')).find((e) => e.kind === 'object' && e.end !== null && e.clip && drove(e));
    }, 150_000, 1000))!;
    const clip = event.clip!;
    const file = path.join(data, 'clips', clip.path);
    const bytes = readFileSync(file);
    expect(sha256(bytes)).toBe(clip.sha256);
    expect(bytes.length).toBe(clip.bytes);
    expect(clip.codec).toBe('h264');
    expect(clip.browser_playable).toBe(true);
    expect(clip.truncated).toBe(false);

    const info = videoInfo(file);
    expect(info.codec).toBe('h264');
    expect(info.faststart).toBe(true);
    expect(decodeErrors(file)).toBe('');
    // Asked: pre_s before the start to post_s after the end. The clip starts at the keyframe opening the first
    // segment, so at most one GOP earlier, and ends at the window's end (a frame either way).
    const askedS = (Date.parse(event.end!) - Date.parse(event.start)) / 1000 + PRE_S + POST_S;
    expect(info.durationS).toBeGreaterThanOrEqual(askedS - 0.3);
    expect(info.durationS).toBeLessThanOrEqual(askedS + GOP_S + 0.3);
    expect(Date.parse(clip.start)).toBeLessThanOrEqual(Date.parse(event.start) - PRE_S * 1000 + 300);
    expect(Date.parse(clip.start)).toBeGreaterThanOrEqual(Date.parse(event.start) - (PRE_S + GOP_S) * 1000 - 300);
    expect(Math.abs((Date.parse(clip.end) - Date.parse(clip.start)) / 1000 - info.durationS)).toBeLessThan(0.3);
  }, 180_000);

  it('shows the moving object: the picture changes where the track went, between its first and last sighting', () => {
    const clip = event.clip!;
    const file = path.join(data, 'clips', clip.path);
    const [w, h] = event.frame_size!;
    const trackPath = event.path!;
    const first = trackPath[0]!;
    const last = trackPath[trackPath.length - 1]!;
    const at = (t: number) => (t - Date.parse(clip.start)) / 1000;
    const a = greyFrameAt(file, at(first[0]), w, h);
    const b = greyFrameAt(file, at(last[0]), w, h);
    const [x1, y1, x2, y2] = event.box! as [number, number, number, number];
    const bw = x2 - x1;
    const bh = y2 - y1;
    // Where the object was at its first sighting and at its last: it left the one and came to the other.
    const around = (cx: number, cy: number): [number, number, number, number] => [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2];
    const moved = Math.hypot(last[1] - first[1], last[2] - first[2]);
    expect(moved).toBeGreaterThan(Math.min(bw, bh));
    const there = Math.max(meanDifference(a, b, w, around(first[1], first[2])), meanDifference(a, b, w, around(last[1], last[2])));
    expect(there).toBeGreaterThan(8);
  });

  it('serves the clip with Range requests and its hash, and lists and exports what was recorded', async () => {
    const clip = event.clip!;
    const whole = await get(clip.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('x-content-sha256')).toBe(clip.sha256);
    const body = new Uint8Array(await whole.arrayBuffer());
    expect(sha256(body)).toBe(clip.sha256);
    const part = await get(clip.url, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${clip.bytes}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(body.subarray(100, 200)))).toBe(true);
    const tail = await get(clip.url, { range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(Buffer.from(body.subarray(body.length - 10)))).toBe(true);
    expect((await get(clip.url, { range: `bytes=${clip.bytes}-` })).status).toBe(416);
    expect((await fetch(`${daemon.address}${clip.url}`)).status).toBe(401);

    // A window inside what was recorded (the clip's start is a segment's).
    const from = new Date(Date.parse(clip.start) + 500).toISOString();
    const to = new Date(Date.parse(clip.start) + 20_500).toISOString();
    const listing = (await waitFor('the recording to reach the window\'s end', async () => {
      const answer = (await (await get(`/api/recordings?camera=lot&from=${from}&to=${to}`)).json()) as RecordingsJson;
      return answer.spans.length && Date.parse(answer.spans[answer.spans.length - 1]!.end) >= Date.parse(to) ? answer : undefined;
    }, 30_000, 500))!;
    expect(listing.spans.length).toBeGreaterThanOrEqual(1);
    expect(Date.parse(listing.spans[0]!.start)).toBeLessThanOrEqual(Date.parse(from) + 1000);
    expect(Date.parse(listing.spans[listing.spans.length - 1]!.end)).toBeGreaterThanOrEqual(Date.parse(to) - 1000);

    const exported = await get(`/api/recordings/export.mp4?camera=lot&from=${from}&to=${to}&download`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toMatch(/attachment; filename="vigil-lot-/);
    const exportBytes = new Uint8Array(await exported.arrayBuffer());
    expect(sha256(exportBytes)).toBe(exported.headers.get('x-content-sha256'));
    const exportFile = path.join(dir, 'export.mp4');
    writeFileSync(exportFile, exportBytes);
    expect(decodeErrors(exportFile)).toBe('');
    const duration = videoInfo(exportFile).durationS;
    expect(duration).toBeGreaterThanOrEqual(20 - 0.3);
    expect(duration).toBeLessThanOrEqual(20 + GOP_S + 0.3);
    expect(Date.parse(exported.headers.get('x-clip-start')!)).toBeLessThanOrEqual(Date.parse(from));
    expect(exported.headers.get('x-clip-browser-playable')).toBe('true');

    // A window still being recorded (it ends in the future): a player's Range requests a few seconds apart
    // read the same file, though more has been recorded meanwhile (each request re-assembling it gave a longer
    // file with other offsets, which a browser seeking in it could not decode).
    const growing = `/api/recordings/export.mp4?camera=lot&from=${from}&to=${new Date(Date.now() + 120_000).toISOString()}`;
    const firstRead = await get(growing, { range: 'bytes=0-0' });
    expect(firstRead.status).toBe(206);
    await firstRead.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const laterRead = await get(growing, { range: 'bytes=0-0' });
    await laterRead.body?.cancel();
    expect(laterRead.headers.get('x-content-sha256'), 'the same file for the same window a moment later').toBe(firstRead.headers.get('x-content-sha256'));
    expect(laterRead.headers.get('x-clip-end')).toBe(firstRead.headers.get('x-clip-end'));

    expect((await get(`/api/recordings?camera=nowhere&from=${from}&to=${to}`)).status).toBe(404);
    expect((await get(`/api/recordings/export.mp4?camera=lot&from=${from}&to=${new Date(Date.parse(from) + 2 * 3_600_000).toISOString()}`)).status).toBe(400);
  }, 60_000);

  it('packs the clip into the evidence zip, listed in SHA256SUMS and event.json, checked by sha256sum -c', async () => {
    const response = await get(`/api/events/${event.id}/evidence.zip`);
    expect(response.status).toBe(200);
    const zip = unzipSync(new Uint8Array(await response.arrayBuffer()));
    const out = mkdtempSync(path.join(dir, 'evidence-'));
    const names = Object.keys(zip);
    const folder = names[0]!.split('/')[0]!;
    for (const [name, bytes] of Object.entries(zip)) {
      mkdirSync(path.dirname(path.join(out, name)), { recursive: true });
      writeFileSync(path.join(out, name), bytes);
    }
    expect(names).toContain(`${folder}/clip.mp4`);
    const sums = readFileSync(path.join(out, folder, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain(`${event.clip!.sha256}  clip.mp4`);
    const checked = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(out, folder), encoding: 'utf8' });
    expect(checked).toContain('clip.mp4: OK');
    const record = JSON.parse(readFileSync(path.join(out, folder, 'event.json'), 'utf8')) as { event: EventJson };
    expect(record.event.clip!.sha256).toBe(event.clip!.sha256);
  });

  it('records an H.265 camera as it is, and says a browser cannot play it', async () => {
    const withClip = (await waitFor('an event of the H.265 camera with its clip', async () => (await events('hevc')).find((e) => e.clip), 120_000, 1000))!;
    const clip = withClip.clip!;
    expect(clip.codec).toBe('hevc');
    expect(clip.browser_playable).toBe(false);
    const file = path.join(data, 'clips', clip.path);
    expect(videoInfo(file).codec).toBe('hevc');
    // Tagged hvc1, as the players that do play H.265 from an MP4 (Safari among them) want.
    expect(readFileSync(file).includes(Buffer.from('hvc1'))).toBe(true);
    expect(decodeErrors(file)).toBe('');
    expect((await get(clip.url)).headers.get('x-clip-codec')).toBe('hevc');
  }, 150_000);

  it('counts segments and clips in the metrics, and refuses a clip or an export whose file changed (409, audited)', async () => {
    const metrics = await (await fetch(`${daemon.address}/metrics`)).text();
    expect(sample(metrics, 'vigil_recording_segments_total', { camera: 'lot' })).toBeGreaterThan(5);
    expect(sample(metrics, 'vigil_recording_active', { camera: 'lot' })).toBe(1);
    expect(sample(metrics, 'vigil_clips_total', { result: 'written' })).toBeGreaterThan(0);

    const clip = event.clip!;
    appendFileSync(path.join(data, 'clips', clip.path), Buffer.from([0]));
    const refused = await get(clip.url);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toContain('no longer matches');
    expect((await get(`/api/events/${event.id}/evidence.zip`)).status).toBe(409);
    expect(readFileSync(path.join(data, 'audit.log'), 'utf8')).toContain('clip refused');

    // An export over a segment changed since it was recorded is refused too: a byte added at its end, past
    // anything ffmpeg would read for a window ending early in it.
    const db = new Database(path.join(data, 'events.db'), { readonly: true });
    const segment = db.prepare("SELECT path, start_ms FROM segments WHERE camera = 'lot' AND start_ms > ? ORDER BY start_ms LIMIT 1")
      .get(Date.parse(clip.end)) as { path: string; start_ms: number };
    db.close();
    appendFileSync(path.join(data, 'recordings', segment.path), Buffer.from([0]));
    const window = `camera=lot&from=${new Date(segment.start_ms - 1500).toISOString()}&to=${new Date(segment.start_ms + 200).toISOString()}`;
    const export409 = await get(`/api/recordings/export.mp4?${window}`);
    expect(export409.status).toBe(409);
    expect(((await export409.json()) as { error: string }).error).toContain('no longer matches');
    expect(readFileSync(path.join(data, 'audit.log'), 'utf8')).toContain('recording export refused');
  });
});
