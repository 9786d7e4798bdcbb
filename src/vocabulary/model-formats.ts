// The output layouts vigil can decode, once: the config schema offers them, the catalogue and the manifest
// record them, the decoders switch on them, and each has the input normalisation its exports usually expect.

export const MODEL_FORMATS = ['yolov8', 'yolox', 'nanodet', 'centernet'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

export interface Normalisation {
  /** Channel order the model expects. */
  order: 'rgb' | 'bgr';
  /** input = (pixel − mean) / std, per channel in `order`, pixels 0..255. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** What a drop-in model of each format gets when its config names no normalisation. */
export const DEFAULT_NORMALISATION: Record<ModelFormat, Normalisation> = {
  yolov8: { order: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] },
  yolox: { order: 'bgr', mean: [0, 0, 0], std: [1, 1, 1] },
  // Upstream NanoDet's own normalisation (BGR, ImageNet mean/std in 0..255): RGB/255 gives much lower scores.
  nanodet: { order: 'bgr', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395] },
  centernet: { order: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] },
};
