// Looks at a running daemon from outside, as operations would: /healthz, /metrics and /proc. Each HTTP
// request uses its own connection, closed after the answer, so the probe leaves no keep-alive sockets in the
// daemon that would blur its open-descriptor count.
import http from 'node:http';
import { ffmpegChildren, openFdCount, procStatus } from './proc.js';

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
  fds: number;
  ffmpegRunning: number;
  ffmpegZombies: number;
}

/** The daemon's memory, threads, descriptors and ffmpeg children, now. */
export function processSample(pid: number): ProcessSample {
  const status = procStatus(pid);
  const fds = openFdCount(pid);
  const ffmpeg = ffmpegChildren(pid);
  return { rssBytes: status.rssBytes, threads: status.threads, fds, ffmpegRunning: ffmpeg.running.length, ffmpegZombies: ffmpeg.zombies.length };
}

export const MB = 1024 * 1024;
export const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
