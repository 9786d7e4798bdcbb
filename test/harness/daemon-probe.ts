// Looks at a running daemon from outside, as operations would: /healthz, /metrics and /proc. Each HTTP
// request uses its own connection, closed after the answer, so the probe leaves no keep-alive sockets in the
// daemon that would blur its open-descriptor count.
import http from 'node:http';
import { ffmpegChildren, openFdTargets, procStatus, stdioPipeEnds } from './proc.js';

export interface HttpAnswer {
  status: number;
  body: string;
}

export function httpGet(url: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (d: string) => (body += d));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

export interface HealthCamera {
  name: string;
  location: string;
  state: 'starting' | 'up' | 'down' | 'failed' | 'stopped';
  fps: number;
  frames: number;
  last_frame_age_s: number | null;
  restarts: number;
  last_error: { kind: string; message: string; at: string } | null;
}

export interface Health {
  status: 'ok' | 'degraded';
  uptime_s: number;
  cameras_up: number;
  cameras_total: number;
  cameras: HealthCamera[];
}

export async function fetchHealth(address: string): Promise<{ status: number; health: Health }> {
  const answer = await httpGet(`${address}/healthz`);
  return { status: answer.status, health: JSON.parse(answer.body) as Health };
}

export async function fetchMetrics(address: string): Promise<Exposition> {
  const answer = await httpGet(`${address}/metrics`);
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  return parseExposition(answer.body);
}

export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** A Prometheus text exposition, parsed: metric name (with _bucket/_sum/_count suffixes as written) → series. */
export class Exposition {
  constructor(
    readonly text: string,
    private readonly byName: Map<string, Series[]>,
  ) {}

  series(name: string): Series[] {
    return this.byName.get(name) ?? [];
  }

  /** The value of the one series of `name` whose labels include `labels`; undefined if none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    return this.series(name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  }

  /** The sum over every series of `name` whose labels include `labels` (0 if none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.series(name)
      .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
  }

  /** The camera's current state from vigil_camera_state (the one series at 1). */
  cameraState(camera: string): string | undefined {
    return this.series('vigil_camera_state').find((s) => s.labels.camera === camera && s.value === 1)?.labels.state;
  }
}

export function parseExposition(text: string): Exposition {
  const byName = new Map<string, Series[]>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const list = byName.get(m[1]!) ?? [];
    list.push({ labels, value: Number(m[3]) });
    byName.set(m[1]!, list);
  }
  return new Exposition(text, byName);
}

export interface ProcessSample {
  rssBytes: number;
  threads: number;
  /** Every open descriptor. */
  fds: number;
  /**
   * The descriptors the daemon holds of its own: `fds` less the pipe ends it shares with its ffmpeg children
   * (which come and go with cameras and clips) and less the media files it has open for a moment (a segment
   * being hashed or fed to a clip, a clip being hashed, a snapshot being written). A leak shows here.
   */
  fdsOwn: number;
  /** Recorded video, clips, exports and snapshots open at the sample (see `fdsOwn`). */
  fdsMedia: number;
  /** ffmpeg reading a camera: one per camera that is up. */
  ffmpegCameras: number;
  /** ffmpeg assembling a clip or an export. */
  ffmpegClips: number;
  ffmpegZombies: number;
  /** Pids of the zombies: one that exited a moment ago is only waiting for the daemon's event loop to reap it. */
  zombiePids: number[];
  /** Pids of the clip assemblers, to tell one that lingers from a stream of short ones. */
  clipPids: number[];
}

/** Where the daemon keeps media under its data_dir (src/events/store.ts mediaRoots, and exports). */
const MEDIA_DIR = /\/(recordings|clips|exports|snapshots)\//;

/** The daemon's memory, threads, descriptors and ffmpeg children, now. */
export function processSample(pid: number): ProcessSample {
  const status = procStatus(pid);
  const ffmpeg = ffmpegChildren(pid);
  // The children first: one spawned after this holds ends we do not subtract, for this sample only.
  const childEnds = ffmpeg.running.reduce((n, child) => n + stdioPipeEnds(child), 0);
  const targets = openFdTargets(pid).map((line) => line.split(' -> ')[1] ?? '');
  const media = targets.filter((t) => MEDIA_DIR.test(t)).length;
  return {
    rssBytes: status.rssBytes,
    threads: status.threads,
    fds: targets.length,
    fdsOwn: targets.length - childEnds - media,
    fdsMedia: media,
    ffmpegCameras: ffmpeg.cameras.length,
    ffmpegClips: ffmpeg.clips.length,
    ffmpegZombies: ffmpeg.zombies.length,
    zombiePids: ffmpeg.zombies.map((p) => p.pid),
    clipPids: ffmpeg.clips.map((p) => p.pid),
  };
}

/**
 * The daemon's own descriptors with what passes in a moment taken out: a child that just exited or is not yet
 * ffmpeg (its pipe ends still or already open in the daemon) lasts milliseconds, a leak lasts. So each value
 * is the least of itself and the next sample's; the last value stands alone.
 */
export function lastingOwnFds(samples: ProcessSample[]): number[] {
  return samples.map((p, i) => Math.min(p.fdsOwn, samples[i + 1]?.fdsOwn ?? p.fdsOwn));
}

/**
 * Zombies still there at the next sample: children the daemon did not reap. (One caught in a single sample had
 * just exited: clip assemblers exit all the time with recording on, and are reaped when the event loop next
 * turns, milliseconds later.)
 */
export function lastingZombies(samples: ProcessSample[]): number[] {
  return [...new Set(samples.flatMap((p, i) => p.zombiePids.filter((z) => samples[i + 1]?.zombiePids.includes(z))))];
}

/**
 * A sample whose `fdsOwn` is the least of `reads` reads `gapMs` apart (the rest is the first read's). Starting
 * a child holds a few descriptors for the whole fork and exec (the socket pairs of its stdio, libuv's exec
 * pipe): with the daemon at ~450 MB on a busy core that takes long enough for one 5-s sample in twenty to catch
 * a clip assembler being started, and two samples in a row now and then (the 30-minute soak saw 41 → 46-47
 * in consecutive samples, a child being started each time). A leak is there at every read.
 */
export async function settledSample(pid: number, reads = 3, gapMs = 50): Promise<ProcessSample> {
  const first = processSample(pid);
  let least = first.fdsOwn;
  for (let i = 1; i < reads; i++) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    least = Math.min(least, processSample(pid).fdsOwn);
  }
  return { ...first, fdsOwn: least };
}

/** `fdsOwn` read `reads` times `gapMs` apart, the least of them (see settledSample). */
export async function settledOwnFds(pid: number, reads = 3, gapMs = 200): Promise<number> {
  return (await settledSample(pid, reads, gapMs)).fdsOwn;
}

export const MB = 1024 * 1024;
export const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
