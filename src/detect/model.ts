// Resolves the configured detector model to a file on disk and everything needed to feed and decode it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DetectorConfig } from '../config/schema.js';
import type { ModelSpec } from '../models/catalog.js';
import { MODELS_DIR, readManifest } from '../models/manifest.js';
import { DEFAULT_NORMALISATION } from '../vocabulary/model-formats.js';
import { COCO_LABELS } from '../vocabulary/labels.js';

export interface ResolvedModel extends ModelSpec {
  path: string;
  /** yolox: whether the export already decodes boxes. */
  decoded?: boolean;
}


export function resolveModel(choice: DetectorConfig['model']): ResolvedModel {
  if (typeof choice === 'string') {
    const entry = readManifest().models[choice];
    const file = entry ? path.join(MODELS_DIR, entry.file) : undefined;
    if (!entry || !file || !existsSync(file)) {
      throw new Error(`detector model ${choice} is not built: run "vigil models build" (npm ci does it)`);
    }
    return {
      id: choice,
      path: file,
      format: entry.format,
      input: { width: entry.input.shape[3]!, height: entry.input.shape[2]! },
      normalisation: entry.normalisation,
      resize: entry.resize,
      labels: entry.labels,
    };
  }
  return {
    id: path.basename(choice.path),
    path: choice.path,
    format: choice.format,
    input: choice.input,
    normalisation: choice.normalisation ?? DEFAULT_NORMALISATION[choice.format],
    resize: choice.resize ?? (choice.format === 'yolov8' || choice.format === 'yolox' ? 'letterbox' : 'stretch'),
    labels: choice.labels ?? COCO_LABELS,
    ...(choice.decoded !== undefined ? { decoded: choice.decoded } : {}),
  };
}
