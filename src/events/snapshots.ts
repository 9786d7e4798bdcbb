// Writes an event's evidence: the whole frame with the object's box drawn, and a crop of the object, as
// JPEG under data_dir/snapshots, with the SHA-256 of each file's bytes for the record. Only sharp encodes.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../image/image.js';
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

/**
 * A snapshot that cannot be served as evidence: missing, not a plain file inside the snapshot folder, or no
 * longer matching the SHA-256 recorded at capture. `reason` tells the API 404 (missing) from 409 (changed).
 */
export class SnapshotUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'tampered',
  ) {
    super(message);
    this.name = 'SnapshotUnavailableError';
  }
}

export class SnapshotWriter {
  constructor(readonly root: string) {}

  /**
   * `name` is unique per event version (e.g. camera/2026-11-28/143501-object-12-v2); box is [x1, y1, x2, y2]
   * in the image's pixels, or null for a frame without an object (motion events).
   */
  async write(name: string, image: RgbImage, box: number[] | null, caption: string): Promise<SnapshotPair> {
    const dir = path.join(this.root, path.dirname(name));
    await mkdir(dir, { recursive: true, mode: 0o700 });
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

  /**
   * The snapshot's bytes exactly as captured. Whoever can write into data_dir could otherwise swap a file for
   * a symlink to anything the daemon may read, or edit a picture after the fact; so the file is opened
   * without following a final symlink, its folder must really lie inside the snapshot root, and the bytes
   * must hash to what was recorded at capture. Snapshots are small (tens of KB): reading one whole is cheaper
   * than streaming it and hashing twice.
   */
  async readVerified(ref: SnapshotRef): Promise<Buffer> {
    const file = this.resolve(ref);
    let data: Buffer;
    try {
      const [root, folder] = await Promise.all([realpath(this.root), realpath(path.dirname(file))]);
      if (folder !== root && !folder.startsWith(root + path.sep)) {
        throw new SnapshotUnavailableError(`snapshot ${ref.path} lies outside the snapshot folder`, 'tampered');
      }
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        if (!(await handle.stat()).isFile()) throw new SnapshotUnavailableError(`snapshot ${ref.path} is not a plain file`, 'tampered');
        data = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof SnapshotUnavailableError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // ELOOP: the file itself is a symlink (O_NOFOLLOW).
      if (code === 'ELOOP') throw new SnapshotUnavailableError(`snapshot ${ref.path} is a symbolic link`, 'tampered');
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new SnapshotUnavailableError(`snapshot ${ref.path} is missing`, 'missing');
      throw new SnapshotUnavailableError(`snapshot ${ref.path} cannot be read (${code ?? (err as Error).message})`, 'missing');
    }
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== ref.sha256) {
      throw new SnapshotUnavailableError(`snapshot ${ref.path} no longer matches the SHA-256 recorded at capture (${ref.sha256}, now ${actual})`, 'tampered');
    }
    return data;
  }

  private async save(relative: string, bytes: Buffer): Promise<SnapshotRef> {
    await writeFile(path.join(this.root, relative), bytes, { mode: 0o600 });
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
