// Synthetic Guizhou licence plates rendered by the tests themselves (sharp + Debian's WenQuanYi Micro Hei
// font): blue, yellow, green new-energy and two-row yellow, degraded with tilt, blur and JPEG noise, and
// pasted into a camera-sized frame.
import sharp from 'sharp';
import type { RgbImage } from '../../src/image/image.js';
import { debianMedia } from './media-paths.js';

export type PlateKind = 'blue' | 'yellow' | 'green' | 'two-row';

const STYLE: Record<PlateKind, { bg: string; fg: string; width: number; height: number }> = {
  blue: { bg: '#1450a0', fg: 'white', width: 440, height: 140 },
  yellow: { bg: '#f0c010', fg: 'black', width: 440, height: 140 },
  green: { bg: '#78d296', fg: 'black', width: 480, height: 140 },
  'two-row': { bg: '#f0c010', fg: 'black', width: 440, height: 220 },
};

async function text(line: string, colour: string, size: number): Promise<Buffer> {
  const markup = `<span foreground="${colour}">${line}</span>`;
  return sharp({ text: { text: markup, font: `WenQuanYi Micro Hei ${size}`, fontfile: debianMedia('wqy-microhei.ttc'), rgba: true, dpi: 72 } })
    .png()
    .toBuffer();
}

/** A plate as PNG bytes. `plate` is the text without separator, e.g. 贵F12345 (two-row: 贵A + 12345). */
export async function renderPlate(plate: string, kind: PlateKind): Promise<Buffer> {
  const s = STYLE[kind];
  const chars = [...plate];
  const layers =
    kind === 'two-row'
      ? [
          { input: await text(chars.slice(0, 2).join(' '), s.fg, 70), top: 14, left: 150 },
          { input: await text(chars.slice(2).join(''), s.fg, 100), top: 100, left: 60 },
        ]
      : [{ input: await text(`${chars.slice(0, 2).join('')}·${chars.slice(2).join('')}`, s.fg, chars.length > 7 ? 78 : 92), gravity: 'centre' }];
  return sharp({ create: { width: s.width, height: s.height, channels: 3, background: s.bg } })
    .composite(layers)
    .png()
    .toBuffer();
}

export interface Degradation {
  /** Degrees of rotation (camera not square to the plate). */
  tilt: number;
  /** Gaussian blur sigma, in pixels of the pasted plate. */
  blur: number;
  quality: number;
  /** Width of the plate in the frame, pixels. */
  width: number;
}

/** The plate, degraded, on a grey 1280x720 frame at (x, y); returns the frame and the plate's box. */
export async function plateInFrame(png: Buffer, d: Degradation, x = 500, y = 380): Promise<{ frame: RgbImage; box: number[] }> {
  const meta = await sharp(png).metadata();
  const height = Math.round((d.width * meta.height!) / meta.width!);
  let plate = sharp(png).resize(d.width, height).rotate(d.tilt, { background: '#5a5a5a' });
  if (d.blur > 0.3) plate = plate.blur(d.blur);
  const pasted = await plate.png().toBuffer({ resolveWithObject: true });
  const jpeg = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#5a5a5a' } })
    .composite([{ input: pasted.data, left: x, top: y }])
    .jpeg({ quality: d.quality })
    .toBuffer();
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { frame: { kind: 'rgb', width: info.width, height: info.height, data }, box: [x, y, x + pasted.info.width, y + pasted.info.height] };
}
