// The only place that knows ffmpeg's command line: which binary, which options that build has, and the
// arguments that turn a camera into raw yuv420p frames at the detect size and rate on stdout.
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { isStreamUrl, type CameraConfig } from '../config/schema.js';
import type { YuvImage } from '../image/image.js';

const run = promisify(execFile);

export interface FfmpegBinary {
  path: string;
  version: string;
  /**
   * The RTSP socket I/O timeout option. ffmpeg before 5.0 calls it -stimeout (its -timeout there means
   * "listen for incoming connections"!); 5.0 and later call it -timeout.
   */
  rtspTimeoutOption: '-stimeout' | '-timeout' | undefined;
}

export function bundledFfmpegPath(): string {
  const require = createRequire(import.meta.url);
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/** Finds out what the configured ffmpeg is and which options it has; fails clearly when it cannot run. */
export async function probeFfmpeg(configuredPath: string | null): Promise<FfmpegBinary> {
  const path = configuredPath ?? bundledFfmpegPath();
  let version: string;
  let rtspHelp: string;
  try {
    const banner = (await run(path, ['-hide_banner', '-version'])).stdout;
    version = /ffmpeg version (\S+)/.exec(banner)?.[1] ?? 'unknown';
    rtspHelp = (await run(path, ['-hide_banner', '-h', 'demuxer=rtsp'])).stdout;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `cannot run ffmpeg at ${path} (${code ?? (err as Error).message}); ` +
        'set ffmpeg.path in the config to a working ffmpeg, or null for the bundled one',
    );
  }
  const rtspTimeoutOption = /^\s*-stimeout\b/m.test(rtspHelp)
    ? '-stimeout'
    : /^\s*-timeout\b.*microseconds/m.test(rtspHelp)
      ? '-timeout'
      : undefined;
  return { path, version, rtspTimeoutOption };
}

export interface CameraArgsOptions {
  /** Decoder threads (0 = ffmpeg's choice). One thread per camera spends the least CPU per frame. */
  decodeThreads?: number;
  /** Extra input options, e.g. hardware decoding: ['-hwaccel', 'vaapi']. */
  inputArgs?: readonly string[];
  /** Socket timeout for network streams, seconds; a second line of defence behind vigil's own watchdog. */
  socketTimeoutS?: number;
}

export function cameraArgs(camera: CameraConfig, ffmpeg: FfmpegBinary, options: CameraArgsOptions = {}): string[] {
  const { width, height, fps } = camera.detect;
  const input: string[] = [];
  if (/^rtsps?:\/\//i.test(camera.url)) {
    input.push('-rtsp_transport', 'tcp');
    if (ffmpeg.rtspTimeoutOption && options.socketTimeoutS) {
      input.push(ffmpeg.rtspTimeoutOption, String(Math.round(options.socketTimeoutS * 1e6)));
    }
  } else if (!isStreamUrl(camera.url)) {
    // A file plays as a camera would: in real time, for ever.
    input.push('-re', '-stream_loop', '-1');
  }
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'warning',
    ...(options.decodeThreads !== undefined ? ['-threads', String(options.decodeThreads)] : []),
    ...(options.inputArgs ?? []),
    ...input,
    '-i', camera.url,
    '-map', '0:v:0', '-an', '-sn', '-dn',
    // Asking ffmpeg for the detect rate and size means vigil never touches a pixel it does not need.
    '-vf', `fps=${fps},scale=${width}:${height}:flags=bilinear`,
    '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1',
  ];
}

/**
 * Chosen frames of a video file (0-based decode order) as yuv420p at width×height in one ffmpeg run: what
 * calibration and the evaluation set feed the detector. `scaler` is bilinear, as a camera's ffmpeg scales.
 */
export function decodeVideoFrames(ffmpegPath: string, file: string, indices: readonly number[], width: number, height: number, scaler = 'bilinear'): Map<number, YuvImage> {
  const wanted = [...new Set(indices)].sort((a, b) => a - b);
  const bytes = (width * height * 3) / 2;
  const select = wanted.map((n) => `eq(n\\,${n})`).join('+');
  const data = execFileSync(ffmpegPath, [
    '-hide_banner', '-loglevel', 'error', '-i', file,
    '-vf', `select='${select}',scale=${width}:${height}:flags=${scaler}`, '-vsync', '0',
    '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1',
  ], { maxBuffer: bytes * wanted.length + (1 << 20) });
  if (data.length !== bytes * wanted.length) throw new Error(`${file}: ffmpeg gave ${data.length / bytes} of frames ${wanted.join(', ')}`);
  return new Map(wanted.map((n, i) => [n, { kind: 'yuv420p', width, height, data: data.subarray(i * bytes, (i + 1) * bytes) }]));
}
