import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { configProblems } from '../harness/config-refusal.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
const file = path.join(dir, 'vigil.yaml');
writeFileSync(path.join(dir, 'clip.mp4'), 'not really a video, but it exists');

const problems = (yaml: string) => configProblems(yaml, file);

const GOOD = `
data_dir: ./data
cameras:
  - name: market-east
    url: rtsp://user:pass@10.0.0.5/stream2
    location: market
    aliases: [集市, bazaar]
    detect: { width: 640, height: 360, fps: 5 }
api: { host: 127.0.0.1, port: 8080 }
ffmpeg: { path: null }
`;

describe('config', () => {
  it('accepts the documented example and resolves paths against the file', () => {
    const { config } = parseConfig(GOOD, file);
    expect(config.data_dir).toBe(path.join(dir, 'data'));
    expect(config.cameras[0]).toMatchObject({ name: 'market-east', location: 'market', aliases: ['集市', 'bazaar'] });
    expect(config.cameras[0]!.detect).toEqual({ width: 640, height: 360, fps: 5 });
    expect(config.api).toMatchObject({ host: '127.0.0.1', port: 8080, tokens: 'auto' });
    expect(config.ffmpeg.path).toBeNull();
    expect(config.ingest.backoff_max_s).toBe(30);
  });

  it('fills defaults and resolves a file camera to an absolute path', () => {
    const { config } = parseConfig('cameras: [{ name: a, url: clip.mp4, location: yard }]', file);
    expect(config.cameras[0]!.url).toBe(path.join(dir, 'clip.mp4'));
    expect(config.cameras[0]!.detect).toEqual({ width: 640, height: 360, fps: 5 });
    expect(config.api.port).toBe(8080);
  });

  it('names an unknown key and suggests the right one', () => {
    const p = problems('cameras: [{ name: a, url: rtsp://x/y, locaton: yard }]');
    expect(p).toContainEqual({ path: 'cameras[0]', message: expect.stringContaining('unknown key "locaton"; did you mean "location"?') });
    expect(p).toContainEqual({ path: 'cameras[0].location', message: expect.stringMatching(/^missing; expected string \(the place officers name/) });
  });

  it('names a wrong type with the value it got and the field\'s hint', () => {
    const p = problems(GOOD.replace('fps: 5', 'fps: five'));
    expect(p).toEqual([
      { path: 'cameras[0].detect.fps', message: expect.stringMatching(/^expected number, got string "five" \(frames per second/) },
    ]);
  });

  it('reports a missing required section', () => {
    expect(problems('data_dir: ./x')).toEqual([{ path: 'cameras', message: expect.stringContaining('missing; expected array') }]);
  });

  it('rejects duplicate names, bad names, odd sizes, out-of-range ports and missing files', () => {
    const p = problems(`
cameras:
  - { name: gate, url: rtsp://a/b, location: x }
  - { name: gate, url: rtsp://a/c, location: x }
  - { name: Gate_2, url: rtsp://a/d, location: x, detect: { width: 641 } }
api: { port: 70000 }
`);
    const paths = p.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['cameras[1].name', 'cameras[2].name', 'cameras[2].detect.width', 'api.port']));
    expect(p.find((x) => x.path === 'cameras[1].name')!.message).toContain('duplicate camera name "gate" (also cameras[0].name)');
    expect(p.find((x) => x.path === 'cameras[2].detect.width')!.message).toContain('must be even');

    const missing = problems('cameras: [{ name: a, url: nowhere.mp4, location: x }]');
    expect(missing).toEqual([{ path: 'cameras[0].url', message: `no such video file: ${path.join(dir, 'nowhere.mp4')}` }]);
  });

  it('says each problem once, in words an operator can act on', () => {
    const found = problems(`
time_zone: Asia/Shangai
cameras:
  - name: Market_East
    url: ${path.join(dir, 'clip.mp4')}
    location: market
    zones: [{ name: z, polygon: [[0, 0], [2, 0], [1, 1]] }]
`);
    const text = (p: string) => found.find((f) => f.path === p)?.message ?? '';
    expect(text('time_zone')).toContain('did you mean "Asia/Shanghai"?');
    // The rule's own example is not repeated by the field's hint.
    expect(text('cameras[0].name')).toBe('must be lower-case letters, digits and dashes, e.g. market-east');
    expect(text('cameras[0].zones[0].polygon[1][0]')).toBe('must be at most 1, got number 2');
    // A folder where a video file belongs passes the schema, and is caught before `run` trips over it.
    expect(problems(`cameras: [{ name: folder, url: ${dir}, location: x }]`)[0]).toMatchObject({ path: 'cameras[0].url', message: expect.stringContaining('is not a file') });
    const yaml = problems('cameras:\n  - name: a\n   url: x\n');
    expect(yaml[0]!.message).toMatch(/^YAML syntax, line 3, column \d+: /);
    const missing = (() => { try { loadConfig(path.join(dir, 'nope.yaml')); } catch (err) { return (err as Error).message; } return ''; })();
    expect(missing).toMatch(/nope\.yaml is invalid:\n {2}no such file: check the path/);
    expect(missing).not.toContain('top level');
  });

  it('reports YAML syntax errors', () => {
    expect(problems('cameras: [ { name: a')[0]!.message).toMatch(/^YAML syntax/);
  });

  it('never echoes credentials in errors', () => {
    const typed = problems('cameras: [{ name: a, url: [ "rtsp://admin:hunter2@cam/x" ], location: x }]');
    expect(typed).toEqual([{ path: 'cameras[0].url', message: expect.stringContaining('expected string, got a list') }]);
    const scheme = problems('cameras: [{ name: b, url: "ftp://admin:hunter2@cam/x", location: y }]');
    expect(JSON.stringify(scheme)).not.toContain('hunter2');
    expect(scheme[0]).toEqual({ path: 'cameras[0].url', message: expect.stringContaining('unsupported scheme in ftp://***@cam/x') });
  });

  it('validates the detector section: model, label names and a drop-in model file', () => {
    const { config } = parseConfig(GOOD, file);
    expect(config.detector).toMatchObject({ threads: 'auto', workers: 'auto', pack_regions: true, classes: ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck'] });
    const p = problems(GOOD + 'detector: { model: yolo, classes: [person, motorcyle] }\n');
    expect(p.map((x) => x.path)).toEqual(['detector.model']);
    const labels = problems(GOOD + 'detector: { classes: [person, motorcyle] }\n');
    expect(labels).toEqual([{ path: 'detector.classes[1]', message: 'unknown label "motorcyle"; did you mean "motorcycle"?' }]);
    const thresholds = problems(GOOD + 'detector: { class_thresholds: { persn: 0.5, car: 1.5 } }\n');
    expect(thresholds.map((x) => x.path).sort()).toEqual(['detector.class_thresholds.car']);
    expect(problems(GOOD + 'detector: { class_thresholds: { persn: 0.5 } }\n')).toEqual([
      { path: 'detector.class_thresholds.persn', message: expect.stringContaining('did you mean "person"?') },
    ]);
    const custom = problems(GOOD + 'detector: { model: { path: ./m.onnx, format: yolov8, input: { width: 640, height: 640 } } }\n');
    expect(custom).toEqual([{ path: 'detector.model.path', message: `no such model file: ${path.join(dir, 'm.onnx')}` }]);
  });
});
