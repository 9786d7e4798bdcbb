// Builds the detector models from the npm packages that ship them, into models/<id>.onnx, and records what
// was built in models/manifest.json. Deterministic: the same package version (and, for int8 models, the same
// committed calibration) gives the same bytes, so the manifest's checksums double as a reproducibility check.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BUILTIN_MODELS, type BuiltinModel, type ConvertedModel, type QuantizedModel } from './catalog.js';
import type { CalibrationFile } from './calibrate.js';
import { MODELS_DIR, readManifest, type Manifest, type ManifestEntry } from './manifest.js';
import { QUANTIZER_VERSION, quantizeModel } from './quantize.js';
import { convertGraph } from './tf-to-onnx.js';
import { loadTfjsGraph } from './tfjs-graph.js';

/** Bump when the converter's output changes, so existing builds are redone. */
export const CONVERTER_VERSION = 1;
const sha256 = (data: Uint8Array | Buffer) => createHash('sha256').update(data).digest('hex');

function sourceOf(model: ConvertedModel): { dir: string; version: string; files: string[]; sha256: string; json: string } {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${model.source.package}/package.json`);
  } catch {
    throw new Error(`${model.id}: npm package ${model.source.package} is not installed (run npm ci)`);
  }
  const dir = path.dirname(pkgJson);
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const json = path.join(dir, model.source.file);
  const manifest = JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
  const files = [model.source.file, ...manifest.weightsManifest.flatMap((g) => g.paths.map((p) => path.join(path.dirname(model.source.file), p)))];
  const hash = createHash('sha256');
  for (const f of files) hash.update(readFileSync(path.join(dir, f)));
  return { dir, version, files, sha256: hash.digest('hex'), json };
}

export interface BuildReport {
  id: string;
  status: 'built' | 'current';
  ms: number;
  transposes?: number;
  nodes?: number;
}

export interface BuildOptions {
  force?: boolean;
  /** Where the models and manifest go (default models/). */
  dir?: string;
  /** Where the int8 models' calibration statistics are read (default models/calibration/). */
  calibrationDir?: string;
  log?: (line: string) => void;
}

/** What one model's build produced, before it is written and recorded. */
interface Built {
  onnx: Uint8Array;
  entry: Omit<ManifestEntry, 'file' | 'sha256'>;
  nodes: number;
  transposes?: number;
}

/**
 * Builds every built-in model that is missing or stale into `dir`; `force` rebuilds all. The manifest is
 * written even when a model fails, so what was built before it stays recorded.
 */
export function buildModels(options: BuildOptions = {}): BuildReport[] {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dir = options.dir ?? MODELS_DIR;
  const calibrationDir = options.calibrationDir ?? path.join(MODELS_DIR, 'calibration');
  mkdirSync(dir, { recursive: true });
  const manifest = readManifest(dir);
  const reports: BuildReport[] = [];
  const started = performance.now();
  let announced = false;
  try {
    for (const model of BUILTIN_MODELS) {
      const t0 = performance.now();
      const file = `${model.id}.onnx`;
      const target = path.join(dir, file);
      const entry = manifest.models[model.id];
      const plan = 'quantized' in model ? quantizedPlan(model, manifest, dir, calibrationDir) : convertedPlan(model);
      const current =
        !options.force &&
        entry !== undefined &&
        plan.matches(entry) &&
        entry.converter_version === CONVERTER_VERSION &&
        existsSync(target) &&
        sha256(readFileSync(target)) === entry.sha256;
      if (current) {
        reports.push({ id: model.id, status: 'current', ms: performance.now() - t0 });
        continue;
      }
      // Progress only when the whole build is slow enough for a person to wonder.
      if (!announced && performance.now() - started > 1000) {
        log('building detector models from npm packages ...');
        announced = true;
      }
      const built = plan.build();
      const partial = `${target}.partial`;
      writeFileSync(partial, built.onnx);
      renameSync(partial, target);
      // The committed manifest's key order, so a rebuild's diff shows only what changed.
      const { format, source, converter_version, quantization, ...spec } = built.entry;
      manifest.models[model.id] = { file, format, source, converter_version, ...(quantization ? { quantization } : {}), sha256: sha256(built.onnx), ...spec };
      const ms = performance.now() - t0;
      reports.push({ id: model.id, status: 'built', ms, nodes: built.nodes, ...(built.transposes !== undefined ? { transposes: built.transposes } : {}) });
      if (announced || ms > 1000) log(`built models/${file} (${built.nodes} nodes) in ${(ms / 1000).toFixed(1)} s`);
    }
  } finally {
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  }
  return reports;
}

/** Whether an existing manifest entry was built from the same inputs, and how to build it again. */
interface Plan {
  matches(entry: ManifestEntry): boolean;
  build(): Built;
}

/** Whether the manifest feeds the model as the catalog says (its resize, normalisation and labels may change
 * without its bytes changing, and the daemon reads them from the manifest). */
function sameFeeding(entry: ManifestEntry, model: BuiltinModel): boolean {
  return entry.resize === model.resize && JSON.stringify(entry.normalisation) === JSON.stringify(model.normalisation) && JSON.stringify(entry.labels) === JSON.stringify(model.labels);
}

function convertedPlan(model: ConvertedModel): Plan {
  const source = sourceOf(model);
  return {
    matches: (entry) => entry.source.sha256 === source.sha256 && sameFeeding(entry, model),
    build: () => {
      const graph = loadTfjsGraph(source.json);
      const result = convertGraph(graph, {
        outputs: model.outputs ?? graph.outputs,
        ...(model.inputShape ? { inputShape: model.inputShape } : {}),
        name: model.id,
        docString: `${model.description}; converted by vigil from ${model.source.package}@${source.version} ${model.source.file}`,
      });
      return {
        onnx: result.onnx,
        entry: {
          format: model.format,
          source: { package: model.source.package, version: source.version, files: source.files, sha256: source.sha256 },
          converter_version: CONVERTER_VERSION,
          input: result.input,
          outputs: result.outputs,
          normalisation: model.normalisation,
          resize: model.resize,
          labels: model.labels,
        },
        nodes: result.stats.nodes,
        transposes: result.stats.transposes,
      };
    },
  };
}

function quantizedPlan(model: QuantizedModel, manifest: Manifest, dir: string, calibrationDir: string): Plan {
  const { from } = model.quantized;
  const parent = manifest.models[from];
  if (!parent) throw new Error(`${model.id}: ${from} must be built before it (its catalog entry comes first)`);
  const calibrationPath = path.join(calibrationDir, model.quantized.calibration);
  const shown = path.relative(process.cwd(), calibrationPath) || calibrationPath;
  if (!existsSync(calibrationPath)) throw new Error(`${model.id}: calibration ${shown} is missing: run "vigil models calibrate" and commit the file`);
  const calibrationBytes = readFileSync(calibrationPath);
  const calibrationSha = sha256(calibrationBytes);
  return {
    matches: (entry) =>
      sameFeeding(entry, model) &&
      entry.quantization?.from_sha256 === parent.sha256 &&
      entry.quantization.calibration_sha256 === calibrationSha &&
      entry.quantization.quantizer_version === QUANTIZER_VERSION,
    build: () => {
      const calibration = JSON.parse(calibrationBytes.toString('utf8')) as CalibrationFile;
      if (calibration.model !== from || calibration.model_sha256 !== parent.sha256) {
        throw new Error(
          `${model.id}: ${shown} was computed on ${calibration.model} with sha256 ${calibration.model_sha256}, ` +
            `but models/${parent.file} (${from}) has sha256 ${parent.sha256}: the fp32 model changed, so its ranges no longer apply. ` +
            `Run "vigil models calibrate" (needs ../shared/fixtures) and commit ${shown}`,
        );
      }
      const fp32 = readFileSync(path.join(dir, parent.file));
      const result = quantizeModel(fp32, calibration.ranges, {
        docString: `${model.description}; quantized by vigil from ${parent.file} with ${model.quantized.calibration}`,
      });
      return {
        onnx: result.onnx,
        entry: {
          format: parent.format,
          source: parent.source,
          converter_version: CONVERTER_VERSION,
          quantization: {
            from,
            from_sha256: parent.sha256,
            calibration: `models/calibration/${model.quantized.calibration}`,
            calibration_sha256: calibrationSha,
            quantizer_version: QUANTIZER_VERSION,
          },
          input: parent.input,
          outputs: parent.outputs,
          normalisation: model.normalisation,
          resize: model.resize,
          labels: model.labels,
        },
        nodes: result.stats.nodes,
      };
    },
  };
}
