// The demo camera: a clip vigil makes itself with ffmpeg, so `npm start` needs no camera and no download.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Writes the demo clip (H.264, 1280x720, 25 fps, 20 s, camera-like GOP) unless it exists; returns its path. */
export async function ensureDemoClip(ffmpegPath: string, file: string): Promise<string> {
  if (existsSync(file)) return file;
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = file + '.partial.mp4';
  await run(ffmpegPath, [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25',
    '-t', '20', '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '2M', '-g', '50', '-bf', '0',
    '-pix_fmt', 'yuv420p', '-movflags', '+faststart', partial,
  ]);
  renameSync(partial, file); // never leave a half-written clip that a later start would take as done
  return file;
}
