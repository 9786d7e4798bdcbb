// Decodes photo files (JPEG, PNG, WebP, ...) to RGB for the detector: the only place sharp reads images.
import sharp from 'sharp';
import type { RgbImage } from '../image/image.js';

/** Reads an image in its displayed orientation (EXIF rotation applied), as 8-bit sRGB without alpha. */
export async function readImageFile(file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { kind: 'rgb', width: info.width, height: info.height, data };
  } catch (err) {
    throw new Error(`cannot read image ${file}: ${(err as Error).message}`);
  }
}
