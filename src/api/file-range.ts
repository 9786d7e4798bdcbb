// Serves a video file as recorded, with Range requests (a <video> element seeks by asking for byte ranges),
// after checking that its bytes still hash to what was recorded when it was written. A file is hashed again
// only when it changed on disk since it was last checked (its inode, size or times), so seeking through a
// clip does not re-read it at every request.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { digestFile } from '../recording/file-digest.js';

export class MediaUnavailableError extends Error {
  constructor(
    message: string,
    readonly reason: 'missing' | 'tampered',
  ) {
    super(message);
  }
}

interface Checked {
  key: string;
  sha256: string;
}

const MAX_CHECKED = 512;

export class VerifiedMedia {
  private readonly checked = new Map<string, Checked>();

  /** Throws MediaUnavailableError when the file is missing, not a plain file, or no longer matches `sha256`. */
  async verify(file: string, sha256: string): Promise<{ bytes: number }> {
    let st;
    try {
      st = await stat(file);
    } catch {
      throw new MediaUnavailableError(`${file} is missing`, 'missing');
    }
    if (!st.isFile()) throw new MediaUnavailableError(`${file} is not a plain file`, 'tampered');
    const key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const known = this.checked.get(file);
    if (known && known.key === key && known.sha256 === sha256) return { bytes: st.size };
    const actual = (await digestFile(file)).sha256;
    if (actual !== sha256) {
      this.checked.delete(file);
      throw new MediaUnavailableError(`no longer matches the SHA-256 recorded when it was written (${sha256}, now ${actual})`, 'tampered');
    }
    if (this.checked.size >= MAX_CHECKED) this.checked.delete(this.checked.keys().next().value!);
    this.checked.set(file, { key, sha256 });
    return { bytes: st.size };
  }
}

/** Sends `file` (`bytes` long) whole or the one byte range asked for; several ranges get the whole file. */
export function sendRange(request: FastifyRequest, reply: FastifyReply, file: string, bytes: number, contentType: string): FastifyReply {
  reply.header('accept-ranges', 'bytes').header('content-type', contentType);
  const range = request.headers.range;
  const match = typeof range === 'string' ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (match && (match[1] !== '' || match[2] !== '')) {
    let start: number;
    let end: number;
    if (match[1] === '') {
      // bytes=-N: the last N bytes.
      start = Math.max(0, bytes - Number(match[2]));
      end = bytes - 1;
    } else {
      start = Number(match[1]);
      end = match[2] === '' ? bytes - 1 : Math.min(Number(match[2]), bytes - 1);
    }
    if (start >= bytes || start > end) {
      return reply.code(416).header('content-range', `bytes */${bytes}`).send();
    }
    reply.code(206).header('content-range', `bytes ${start}-${end}/${bytes}`).header('content-length', end - start + 1);
    return reply.send(createReadStream(file, { start, end }));
  }
  reply.header('content-length', bytes);
  return reply.send(createReadStream(file));
}
