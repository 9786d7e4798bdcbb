// What `vigil models build` left in models/: the manifest of built detector models (file, source package and
// checksum, input and outputs, normalisation, labels). Reading it is all the daemon needs; building (the
// TF.js-to-ONNX converter) stays in build.ts, which only the build command and the tests load.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../version.js';
import type { ModelFormat, Normalisation } from '../vocabulary/model-formats.js';

export const MODELS_DIR = path.join(PROJECT_ROOT, 'models');

export interface ManifestEntry {
  file: string;
  format: ModelFormat;
  source: { package: string; version: string; files: string[]; sha256: string };
  converter_version: number;
  /** int8 models: what they were quantized from and with (a change to either rebuilds them). */
  quantization?: {
    from: string;
    from_sha256: string;
    calibration: string;
    calibration_sha256: string;
    quantizer_version: number;
  };
  sha256: string;
  input: { name: string; shape: number[] };
  outputs: Array<{ name: string; shape: number[] }>;
  normalisation: Normalisation;
  resize: 'stretch' | 'letterbox';
  labels: readonly string[];
}

export interface Manifest {
  models: Record<string, ManifestEntry>;
}

export function readManifest(dir = MODELS_DIR): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return { models: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}
