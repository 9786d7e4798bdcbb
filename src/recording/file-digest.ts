// The SHA-256 of a recorded file, read in chunks. Video files are large (a minute of main stream is ~30 MB, an
// hour's export ~2 GB): read whole, each one would be a buffer of its size in the daemon for as long as the
// garbage collector takes to notice. In chunks, memory stays at a chunk per file being read.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 256 * 1024;

export interface FileDigest {
  sha256: string;
  bytes: number;
}

/**
 * Hashes `file` (not followed if it is a symbolic link), handing each chunk to `onChunk` as it is read and
 * waiting for it: the chunk is the caller's to keep. With `sync`, the file is flushed to disk first.
 */
export async function digestFile(file: string, options: { onChunk?: (chunk: Buffer) => Promise<void> | void; sync?: boolean } = {}): Promise<FileDigest> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (options.sync) await handle.sync();
    const hash = createHash('sha256');
    // No bigger than the file (a 2-s segment of a sub-stream is ~150 KB), and one buffer for the whole file
    // unless `onChunk` takes each: it may keep it (a pipe's write queue does until it drains).
    const size = Math.max(4096, Math.min(CHUNK_BYTES, (await handle.stat()).size + 1));
    let reused: Buffer | undefined;
    let bytes = 0;
    for (;;) {
      const chunk = options.onChunk ? Buffer.allocUnsafe(size) : (reused ??= Buffer.allocUnsafe(size));
      const { bytesRead } = await handle.read(chunk, 0, size, bytes);
      if (bytesRead === 0) break;
      const data = bytesRead < size ? chunk.subarray(0, bytesRead) : chunk;
      hash.update(data);
      bytes += bytesRead;
      await options.onChunk?.(data);
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await handle.close();
  }
}

/** The first `length` bytes of `file` (fewer if it is shorter). */
export async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await handle.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
