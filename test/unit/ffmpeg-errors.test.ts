import { describe, expect, it } from 'vitest';
import { redactCredentials } from '../../src/config/redact.js';
import { CameraSchema } from '../../src/config/schema.js';
import { cameraArgs, type FfmpegBinary } from '../../src/ingest/ffmpeg.js';
import { classifyFfmpegLine, LineSplitter } from '../../src/ingest/ffmpeg-errors.js';

describe('ffmpeg stderr', () => {
  it('classifies the failures an operator can act on, without credentials', () => {
    // Lines as the bundled ffmpeg prints them (seen against the test RTSP server).
    const cases: Array<[string, string, boolean]> = [
      ['rtsp://admin:hunter2@127.0.0.1:8554/nope: Server returned 404 Not Found', 'not_found', true],
      ['rtsp://admin:bad@127.0.0.1:18554/cam1: Server returned 401 Unauthorized (authorization failed)', 'unauthorized', true],
      ['[tcp @ 0x23cf2c80] Connection to tcp://127.0.0.1:18555?timeout=0 failed: Connection refused', 'refused', false],
      ['/tmp/v/garbage.mp4: Invalid data found when processing input', 'invalid_data', true],
      ['/nonexist.mp4: No such file or directory', 'no_file', true],
      ['rtsp://10.0.0.9/x: No route to host', 'unreachable', false],
    ];
    for (const [line, kind, attention] of cases) {
      const error = classifyFfmpegLine(line);
      expect(error, line).toMatchObject({ kind, needsAttention: attention });
      expect(error!.detail).not.toMatch(/hunter2|admin:bad/);
    }
    expect(classifyFfmpegLine('[h264 @ 0x1] error while decoding MB 10 20')).toBeUndefined();
  });

  it('redacts user info and secret query parameters', () => {
    expect(redactCredentials('open rtsp://admin:p@ss@10.0.0.5:554/s2 now')).toBe('open rtsp://***@10.0.0.5:554/s2 now');
    expect(redactCredentials('http://cam/video.cgi?user=admin&password=x1&ch=2')).toBe('http://cam/video.cgi?user=***&password=***&ch=2');
    expect(redactCredentials('rtsp://10.0.0.5/stream')).toBe('rtsp://10.0.0.5/stream');
  });

  it('splits stderr into lines across chunks and carriage returns', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    splitter.push('first li');
    splitter.push('ne\r\nsecond\rthird\n\n');
    splitter.push('tail');
    splitter.flush();
    expect(lines).toEqual(['first line', 'second', 'third', 'tail']);
  });
});

describe('cameraArgs', () => {
  const camera = CameraSchema.parse({ name: 'a', url: 'rtsp://u:p@h/s', location: 'x', detect: { width: 320, height: 180, fps: 2 } });
  const old: FfmpegBinary = { path: 'ffmpeg', version: '4.1', rtspTimeoutOption: '-stimeout' };

  it('asks for TCP, a socket timeout, and raw yuv420p at the detect size and rate', () => {
    const args = cameraArgs(camera, old, { socketTimeoutS: 5 });
    expect(args.join(' ')).toContain('-rtsp_transport tcp -stimeout 5000000 -i rtsp://u:p@h/s');
    expect(args.join(' ')).toContain('-vf fps=2,scale=320:180:flags=bilinear -pix_fmt yuv420p -f rawvideo pipe:1');
    expect(cameraArgs(camera, { ...old, rtspTimeoutOption: '-timeout' }, { socketTimeoutS: 5 })).toContain('-timeout');
  });

  it('plays a file in real time, looped, with extra input options first', () => {
    const args = cameraArgs({ ...camera, url: '/v/clip.mp4' }, old, { decodeThreads: 1, inputArgs: ['-hwaccel', 'vaapi'] });
    expect(args.join(' ')).toContain('-threads 1 -hwaccel vaapi -re -stream_loop -1 -i /v/clip.mp4');
    expect(args).not.toContain('-rtsp_transport');
  });
});
