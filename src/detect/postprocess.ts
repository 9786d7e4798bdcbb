// From a model's raw output tensors to detections in source-image pixels: decode per format, NMS, map back.
import type { InputTransform } from './preprocess.js';
import type { Rect } from '../image/geometry.js';
import type { ResolvedModel } from './model.js';
import { decodeCenternet, decodeNanodet, decodeYolov8, decodeYolox, type ClassFilter } from './decoders.js';
import { nms, type Detection } from './nms.js';

export interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}

export interface DecodeOptions {
  scoreThreshold: number;
  iouThreshold: number;
  maxDetections: number;
  allowed: ClassFilter;
  /** Classes in different groups never suppress each other in NMS (see nms); default one group. */
  groupOf?: (classId: number) => number;
}

export function decodeOutputs(model: ResolvedModel, outputs: Record<string, RawOutput>, o: DecodeOptions): Detection[] {
  const list = Object.values(outputs);
  const classes = model.labels.length;
  const size = model.input.width;
  const { width, height } = model.input;
  switch (model.format) {
    case 'nanodet': {
      // Outputs come per stride as scores [1, N, classes] and box distributions [1, N, 4·bins]; pair them by N.
      const levels = list
        .filter((t) => t.dims[2] === classes)
        .map((cls) => {
          const n = cls.dims[1]!;
          const reg = list.find((t) => t !== cls && t.dims[1] === n && t.dims[2] !== classes);
          if (!reg) throw new Error(`nanodet model: no box output for the ${n}-cell level`);
          // The level's stride is the one whose grid over the input has n cells (inputs need not be square).
          const stride = [8, 16, 32, 64, 128].find((s) => Math.ceil(width / s) * Math.ceil(height / s) === n);
          if (!stride) throw new Error(`nanodet model: no stride gives ${n} cells over a ${width}x${height} input`);
          return { stride, cls: cls.data, reg: reg.data };
        });
      return decodeNanodet(levels, model.input, classes, o.scoreThreshold, o.allowed);
    }
    case 'centernet': {
      const heat = list.find((t) => t.dims[3] === classes);
      const wh = list.find((t) => t.dims[3] === 4);
      if (!heat || !wh) throw new Error('centernet model: expected a [1,H,W,classes] heatmap and a [1,H,W,4] box output');
      const [, gh, gw] = heat.dims as [number, number, number];
      return decodeCenternet(heat.data, wh.data, gw, gh, classes, size / gw, o.scoreThreshold, o.allowed);
    }
    case 'yolov8':
      return decodeYolov8(list[0]!.data, list[0]!.dims, classes, o.scoreThreshold, o.allowed);
    case 'yolox':
      return decodeYolox(list[0]!.data, list[0]!.dims, model.input, classes, o.scoreThreshold, { decoded: model.decoded ?? false }, o.allowed);
  }
}

/** NMS in model space, then boxes mapped to source pixels and clipped to the region that was looked at. */
export function finishDetections(dets: Detection[], t: InputTransform, region: Rect, o: DecodeOptions): Detection[] {
  return nms(dets, o.iouThreshold, o.maxDetections, o.groupOf).map((d) => mapBack(d, d.box, t, region));
}

/**
 * The same for an input holding several regions in tiles: each detection belongs to the tile its centre
 * is in, is cut at that tile's edges (the region's edge in the frame, as for a single crop), and is mapped
 * back through that tile's transform.
 */
export function finishTiledDetections(dets: Detection[], tiles: Array<{ tile: Rect; transform: InputTransform; region: Rect }>, o: DecodeOptions): Detection[] {
  const found: Detection[] = [];
  for (const d of nms(dets, o.iouThreshold, o.maxDetections, o.groupOf)) {
    const cx = (d.box[0] + d.box[2]) / 2;
    const cy = (d.box[1] + d.box[3]) / 2;
    const owner = tiles.find(({ tile: t }) => cx >= t.x && cx < t.x + t.width && cy >= t.y && cy < t.y + t.height);
    if (!owner) continue;
    const t = owner.tile;
    const box: Detection['box'] = [
      clamp(d.box[0], t.x, t.x + t.width),
      clamp(d.box[1], t.y, t.y + t.height),
      clamp(d.box[2], t.x, t.x + t.width),
      clamp(d.box[3], t.y, t.y + t.height),
    ];
    found.push(mapBack(d, box, owner.transform, owner.region));
  }
  return found;
}

function mapBack(d: Detection, box: Detection['box'], t: InputTransform, region: Rect): Detection {
  const x2max = region.x + region.width;
  const y2max = region.y + region.height;
  return {
    classId: d.classId,
    score: d.score,
    box: [
      clamp(t.offsetX + box[0] * t.scaleX, region.x, x2max),
      clamp(t.offsetY + box[1] * t.scaleY, region.y, y2max),
      clamp(t.offsetX + box[2] * t.scaleX, region.x, x2max),
      clamp(t.offsetY + box[3] * t.scaleY, region.y, y2max),
    ],
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
