// Test clips, generated with the bundled ffmpeg into a git-ignored cache (.cache/test-media) on first use.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { YuvImage } from '../../src/image/image.js';
import { bundledFfmpegPath } from '../../src/ingest/ffmpeg.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { drawPatternFrame } from './pattern.js';

export const MEDIA_DIR = path.join(PROJECT_ROOT, '.cache', 'test-media');

function x264Args(fps: number): string[] {
  // Camera-like: no B-frames, a keyframe every 2 s, SPS/PPS repeated before each keyframe.
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', String(Math.round(fps * 2)),
    '-pix_fmt', 'yuv420p', '-x264-params', 'repeat-headers=1'];
}

async function runFfmpeg(args: string[], feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<void> {
  const base = ['-hide_banner', '-loglevel', 'error', '-y', ...(feed ? [] : ['-nostdin'])];
  const child = spawn(bundledFfmpegPath(), [...base, ...args], { stdio: [feed ? 'pipe' : 'ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${args.join(' ')} failed (${code}): ${stderr}`))));
  });
  if (feed) {
    await feed(child.stdin!);
    child.stdin!.end();
  }
  await done;
}

async function cached(name: string, make: (partial: string) => Promise<void>): Promise<string> {
  const file = path.join(MEDIA_DIR, name);
  if (existsSync(file)) return file;
  mkdirSync(MEDIA_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.partial${path.extname(file)}`;
  await make(partial);
  renameSync(partial, file);
  return file;
}

/** An H.264 Annex B clip whose frames carry their own number (see pattern.ts). */
export function patternClip(width = 640, height = 360, fps = 25, seconds = 12): Promise<string> {
  return cached(`pattern-${width}x${height}-${fps}-${seconds}.h264`, (partial) =>
    runFfmpeg(
      ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
        ...x264Args(fps), '-qp', '12', '-f', 'h264', partial],
      async (stdin) => {
        const frame = Buffer.alloc((width * height * 3) / 2);
        for (let i = 0; i < fps * seconds; i++) {
          drawPatternFrame(frame, width, height, i);
          if (!stdin.write(Buffer.from(frame))) await new Promise((r) => stdin.once('drain', r));
        }
      },
    ),
  );
}

/**
 * A grey street where a red block moves for 2 s of every 5, then stands still: every period is one motion
 * event (with motion.quiet_s under 3 s), so events keep being written for as long as it plays.
 */
export function burstsClip(width = 640, height = 360, fps = 25, seconds = 10): Promise<string> {
  return cached(`bursts-${width}x${height}-${fps}-${seconds}.h264`, (partial) =>
    runFfmpeg(['-f', 'lavfi', '-i', `color=c=gray:s=${width}x${height}:r=${fps}:d=${seconds}`, '-f', 'lavfi', '-i', `color=c=red:s=${Math.round(width / 6)}x${Math.round(height / 4)}:r=${fps}:d=${seconds}`,
      '-filter_complex', `[0][1]overlay=x='if(lt(mod(t,5),2),mod(t,5)*${Math.round(width / 3)},${Math.round((width * 2) / 3)})':y=${Math.round(height / 3)}`,
      ...x264Args(fps), '-b:v', '1M', '-f', 'h264', partial]),
  );
}

/** A camera-like H.264 Annex B clip of ffmpeg's moving test picture, e.g. 1280x720 at 25 fps. */
export function testsrcClip(width: number, height: number, fps: number, seconds = 10, bitrate = '2M'): Promise<string> {
  return cached(`testsrc-${width}x${height}-${fps}-${seconds}-${bitrate}.h264`, (partial) =>
    runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`, '-t', String(seconds),
      ...x264Args(fps), '-b:v', bitrate, '-f', 'h264', partial]),
  );
}

/** The same moving picture as an MP4 file, for file-path cameras. */
export function testsrcMp4(width: number, height: number, fps: number, seconds = 4): Promise<string> {
  return cached(`testsrc-${width}x${height}-${fps}-${seconds}.mp4`, (partial) =>
    runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`, '-t', String(seconds),
      ...x264Args(fps), '-b:v', '1M', partial]),
  );
}

/** A video file's H.264 stream as Annex B (no re-encode), for the test RTSP server. */
export function annexB(file: string): Promise<string> {
  return cached(`${path.basename(file, path.extname(file))}.h264`, (partial) =>
    runFfmpeg(['-i', file, '-map', '0:v:0', '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', partial]),
  );
}

/** Real street footage as a 720p25 camera: the pedestrian fixture scaled to 1280x720, 25 fps, 2 Mbit/s. */
export function street720p25(source: string): Promise<string> {
  return cached('street-1280x720-25.h264', (partial) =>
    runFfmpeg(['-i', source, '-vf', 'scale=1280:720,fps=25', ...x264Args(25), '-b:v', '2M', '-an', '-f', 'h264', partial]),
  );
}

/** One frame of a video (or a still) decoded by the bundled ffmpeg to yuv420p at width × height. */
export function decodeFrame(file: string, seconds: number, width: number, height: number): YuvImage {
  // No -ss for stills: the image demuxer yields nothing when asked to seek, even to 0.
  const data = execFileSync(bundledFfmpegPath(), [
    '-hide_banner', '-loglevel', 'error', ...(seconds > 0 ? ['-ss', String(seconds)] : []), '-i', file, '-frames:v', '1',
    '-vf', `scale=${width}:${height}`, '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1',
  ], { maxBuffer: 64 << 20 });
  return { kind: 'yuv420p', width, height, data };
}

/** A camera-like clip of a still photo sliding across a grey 1280x720 scene (a car driving past). */
export function slidingPhotoClip(photo: string, seconds = 8): Promise<string> {
  return cached(`sliding-${path.basename(photo, path.extname(photo))}-${seconds}.h264`, (partial) =>
    runFfmpeg([
      '-f', 'lavfi', '-i', `color=c=0x606060:s=1280x720:r=25:d=${seconds}`, '-loop', '1', '-i', photo,
      '-filter_complex', `[1]scale=880:600[car];[0][car]overlay=x='60+40*t':y=60:shortest=1,format=yuv420p`,
      '-t', String(seconds), ...x264Args(25), '-b:v', '4M', '-f', 'h264', partial,
    ]),
  );
}

/** Numbered stills (an ffmpeg pattern such as DIR/vd_%03d.jpg) as a camera-like 1280x720 clip, one still per frame. */
export function stillsClip(pattern: string, name: string, fps: number): Promise<string> {
  return cached(`stills-${name}-${fps}.h264`, (partial) =>
    runFfmpeg(['-framerate', String(fps), '-i', pattern, '-vf', 'scale=1280:720,format=yuv420p', ...x264Args(fps), '-b:v', '3M', '-f', 'h264', partial]),
  );
}
