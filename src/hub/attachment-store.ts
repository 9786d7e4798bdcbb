// The hub's copies of the boxes' snapshots, by SHA-256 under data_dir/attachments. A copy is kept only when its
// bytes hash to what the box recorded at capture; it is written to a temporary name, flushed and renamed, so a
// crash leaves either the whole verified file or none (and stray temporaries, swept at start).
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ATTACHMENT_DIR, attachmentPath } from './attachment-path.js';

export class AttachmentMismatchError extends Error {
  constructor(
    readonly sha256: string,
    readonly actual: string,
  ) {
    super(`the bytes received hash to ${actual}, not to ${sha256} recorded at capture`);
    this.name = 'AttachmentMismatchError';
  }
}

export class AttachmentStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, ATTACHMENT_DIR);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /** Keeps `bytes` as `sha256` if they hash to it; throws AttachmentMismatchError otherwise. Returns the path kept. */
  keep(sha256: string, bytes: Buffer): string {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) throw new AttachmentMismatchError(sha256, actual);
    const relative = attachmentPath(sha256);
    const file = path.join(this.root, relative);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    return relative;
  }

  has(sha256: string): boolean {
    try {
      return statSync(path.join(this.root, attachmentPath(sha256))).isFile();
    } catch {
      return false;
    }
  }

  remove(sha256: string): void {
    rmSync(path.join(this.root, attachmentPath(sha256)), { force: true });
  }

  /** Bytes the attachments take on disk, and removes temporaries a crash left behind. */
  scan(): { bytes: number; files: number; temporariesRemoved: number } {
    let bytes = 0;
    let files = 0;
    let temporariesRemoved = 0;
    for (const fan of readdirSync(this.root)) {
      const folder = path.join(this.root, fan);
      if (!statSync(folder).isDirectory()) continue;
      for (const name of readdirSync(folder)) {
        const file = path.join(folder, name);
        if (name.endsWith('.tmp')) {
          rmSync(file, { force: true });
          temporariesRemoved++;
          continue;
        }
        bytes += statSync(file).size;
        files++;
      }
    }
    return { bytes, files, temporariesRemoved };
  }
}
