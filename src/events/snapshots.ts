// Writes an event's evidence: the whole frame with the object's box drawn, and a crop of the object, as
// JPEG under data_dir/snapshots, with the SHA-256 of each file's bytes for the record. Only sharp encodes.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../detect/preprocess.js';
import type { SnapshotRef } from './store.js';

// One libvips thread per image. A snapshot is one small frame (~10 ms to encode), libuv already encodes up
// to four at once, and the cores belong to the detector. sharp chooses 1 by itself on glibc's malloc but all
// cores on jemalloc (which bin/vigil preloads), where the extra threads only came and went (the soak's peak
// thread count rose from 40 to 44).
sharp.concurrency(1);

export interface SnapshotPair {
  frame: SnapshotRef;
  crop: SnapshotRef | null;
}

export class SnapshotWriter {
  constructor(readonly root: string) {}

  /**
   * `name` is unique per event version (e.g. camera/2026-11-28/143501-object-12-v2); box is [x1, y1, x2, y2]
   * in the image's pixels, or null for a frame without an object (motion events).
   */
  async write(name: string, image: RgbImage, box: number[] | null, caption: string): Promise<SnapshotPair> {
    const dir = path.join(this.root, path.dirname(name));
    await mkdir(dir, { recursive: true });
    const raw = { raw: { width: image.width, height: image.height, channels: 3 as const } };
    const overlays = box ? [{ input: Buffer.from(annotation(image.width, image.height, box, caption)), top: 0, left: 0 }] : [];
    const frameJpeg = await sharp(image.data, raw).composite(overlays).jpeg({ quality: 85 }).toBuffer();
    const frame = await this.save(`${name}-frame.jpg`, frameJpeg);
    let crop: SnapshotRef | null = null;
    if (box) {
      const r = cropRect(box, image.width, image.height);
      const cropJpeg = await sharp(image.data, raw).extract(r).jpeg({ quality: 90 }).toBuffer();
      crop = await this.save(`${name}-crop.jpg`, cropJpeg);
    }
    return { frame, crop };
  }

  async remove(refs: Array<SnapshotRef | null>): Promise<void> {
    await Promise.all(refs.filter((r): r is SnapshotRef => r !== null).map((r) => rm(path.join(this.root, r.path), { force: true })));
  }

  resolve(ref: SnapshotRef): string {
    return path.join(this.root, ref.path);
  }

  private async save(relative: string, bytes: Buffer): Promise<SnapshotRef> {
    await writeFile(path.join(this.root, relative), bytes);
    return { path: relative, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  }
}

/** The box with 15% margin, inside the image, at least 8×8. */
export function cropRect(box: number[], width: number, height: number): { left: number; top: number; width: number; height: number } {
  const [x1, y1, x2, y2] = box as [number, number, number, number];
  const mx = 0.15 * (x2 - x1);
  const my = 0.15 * (y2 - y1);
  const left = Math.max(0, Math.floor(x1 - mx));
  const top = Math.max(0, Math.floor(y1 - my));
  const right = Math.min(width, Math.max(left + 8, Math.ceil(x2 + mx)));
  const bottom = Math.min(height, Math.max(top + 8, Math.ceil(y2 + my)));
  return { left, top, width: right - left, height: bottom - top };
}

function annotation(width: number, height: number, box: number[], caption: string): string {
  const [x1, y1, x2, y2] = box.map((v) => Math.round(v)) as [number, number, number, number];
  const text = caption.replace(/[<>&"]/g, '');
  const labelY = y1 > 18 ? y1 - 5 : y2 + 15;
  return `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">
  <rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="#ffcc00" stroke-width="2"/>
  <text x="${x1}" y="${labelY}" font-family="sans-serif" font-size="13" fill="#ffcc00" stroke="#000" stroke-width="0.4">${text}</text>
</svg>`;
}
