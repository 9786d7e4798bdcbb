// Builds the detector models from the npm packages that ship them, into models/<id>.onnx, and records what
// was built in models/manifest.json. Deterministic: the same package version gives the same bytes, so the
// manifest's checksums double as a reproducibility check.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BUILTIN_MODELS, type BuiltinModel } from './catalog.js';
import { MODELS_DIR, readManifest } from './manifest.js';
import { convertGraph } from './tf-to-onnx.js';
import { loadTfjsGraph } from './tfjs-graph.js';

/** Bump when the converter's output changes, so existing builds are redone. */
export const CONVERTER_VERSION = 1;
const sha256 = (data: Uint8Array | Buffer) => createHash('sha256').update(data).digest('hex');

function sourceOf(model: BuiltinModel): { dir: string; version: string; files: string[]; sha256: string; json: string } {
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

/** Builds every built-in model that is missing or stale into `dir` (default models/); `force` rebuilds all. */
export function buildModels(options: { force?: boolean; dir?: string; log?: (line: string) => void } = {}): BuildReport[] {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dir = options.dir ?? MODELS_DIR;
  mkdirSync(dir, { recursive: true });
  const manifest = readManifest(dir);
  const reports: BuildReport[] = [];
  const started = performance.now();
  let announced = false;
  for (const model of BUILTIN_MODELS) {
    const t0 = performance.now();
    const source = sourceOf(model);
    const file = `${model.id}.onnx`;
    const target = path.join(dir, file);
    const entry = manifest.models[model.id];
    const current =
      !options.force &&
      entry !== undefined &&
      entry.source.sha256 === source.sha256 &&
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
    const graph = loadTfjsGraph(source.json);
    const result = convertGraph(graph, {
      outputs: model.outputs ?? graph.outputs,
      name: model.id,
      docString: `${model.description}; converted by vigil from ${model.source.package}@${source.version} ${model.source.file}`,
    });
    const partial = `${target}.partial`;
    writeFileSync(partial, result.onnx);
    renameSync(partial, target);
    manifest.models[model.id] = {
      file,
      format: model.format,
      source: { package: model.source.package, version: source.version, files: source.files, sha256: source.sha256 },
      converter_version: CONVERTER_VERSION,
      sha256: sha256(result.onnx),
      input: result.input,
      outputs: result.outputs,
      normalisation: model.normalisation,
      resize: model.resize,
      labels: model.labels,
    };
    const ms = performance.now() - t0;
    reports.push({ id: model.id, status: 'built', ms, transposes: result.stats.transposes, nodes: result.stats.nodes });
    if (announced || ms > 1000) log(`built models/${file} (${result.stats.nodes} nodes) in ${(ms / 1000).toFixed(1)} s`);
  }
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return reports;
}
