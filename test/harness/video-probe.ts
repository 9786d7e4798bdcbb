// What a clip really holds, asked of the bundled ffmpeg (ffprobe is not bundled): its container duration and
// codec as `ffmpeg -i` reports them, whether every frame decodes (`ffmpeg -v error -i clip -f null -` prints
// nothing), how many frames, and single frames as grey pixels for comparing pictures.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundledFfmpegPath } from '../../src/ingest/ffmpeg.js';

export interface VideoInfo {
  durationS: number;
  codec: string;
  /** The MP4 has its index (moov) before its data (mdat): a browser can play it while it loads. */
  faststart: boolean;
}

export function videoInfo(file: string): VideoInfo {
  const run = spawnSync(bundledFfmpegPath(), ['-hide_banner', '-i', file], { encoding: 'utf8' });
  const text = run.stderr;
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(text);
  if (!d) throw new Error(`${file}: ffmpeg reports no duration:\n${text}`);
  const codec = /Stream #\S+.*?: Video: (\w+)/.exec(text)?.[1] ?? 'none';
  const head = readFileSync(file).subarray(0, 1 << 20);
  const moov = head.indexOf('moov');
  const mdat = head.indexOf('mdat');
  return { durationS: Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]), codec, faststart: moov >= 0 && (mdat < 0 || moov < mdat) };
}

/** What `ffmpeg -v error -i file -f null -` prints: empty when every frame decodes. */
export function decodeErrors(file: string): string {
  const run = spawnSync(bundledFfmpegPath(), ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return (run.stderr + (run.status === 0 ? '' : `\n(exit ${run.status})`)).trim();
}

export function frameCount(file: string): number {
  const run = spawnSync(bundledFfmpegPath(), ['-nostdin', '-hide_banner', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-'], { encoding: 'utf8' });
  const all = [...run.stderr.matchAll(/frame=\s*(\d+)/g)];
  return Number(all[all.length - 1]?.[1] ?? 0);
}

/** The frame at `seconds` into the clip, as 8-bit grey at width × height. */
export function greyFrameAt(file: string, seconds: number, width: number, height: number): Uint8Array {
  const data = execFileSync(bundledFfmpegPath(), [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-ss', seconds.toFixed(3), '-frames:v', '1',
    '-vf', `scale=${width}:${height}`, '-pix_fmt', 'gray', '-f', 'rawvideo', 'pipe:1',
  ], { maxBuffer: 64 << 20 });
  if (data.length !== width * height) throw new Error(`${file}: no frame at ${seconds} s`);
  return data;
}

/** Mean absolute difference of two grey frames inside [x1, y1, x2, y2]. */
export function meanDifference(a: Uint8Array, b: Uint8Array, width: number, box: [number, number, number, number]): number {
  const height = a.length / width;
  const [x1, y1, x2, y2] = box.map((v) => Math.max(0, Math.round(v))) as [number, number, number, number];
  let sum = 0;
  let n = 0;
  for (let y = y1; y < Math.min(y2, height); y++) {
    for (let x = x1; x < Math.min(x2, width); x++) {
      sum += Math.abs(a[y * width + x]! - b[y * width + x]!);
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}
