// digestFile hashes recorded video in chunks: the hash and length must be the file's whatever its size against
// the chunk, the chunks handed out must be the file in order (they are fed to ffmpeg), and a symbolic link is
// not followed (a segment swapped for a link to another file is not evidence).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { digestFile, readHead } from '../../src/recording/file-digest.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-digest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('digestFile', () => {
  for (const length of [0, 1, 4095, 4096, 150_000, 256 * 1024, 256 * 1024 + 1, 1_000_003]) {
    it(`hashes a file of ${length} bytes and hands out exactly its bytes, in order`, async () => {
      const content = randomBytes(length);
      const file = path.join(dir, `f-${length}`);
      writeFileSync(file, content);
      const chunks: Buffer[] = [];
      const fed = await digestFile(file, { onChunk: (c) => void chunks.push(c) });
      expect(fed).toEqual({ sha256: createHash('sha256').update(content).digest('hex'), bytes: length });
      expect(Buffer.concat(chunks).equals(content)).toBe(true);
      // Without a taker the buffer is reused between reads: the hash must not suffer for it.
      expect(await digestFile(file, { sync: true })).toEqual(fed);
    });
  }

  it('does not follow a symbolic link', async () => {
    const target = path.join(dir, 'target');
    writeFileSync(target, 'x');
    const link = path.join(dir, 'link');
    symlinkSync(target, link);
    await expect(digestFile(link)).rejects.toThrow(/ELOOP/);
    await expect(readHead(link, 10)).rejects.toThrow(/ELOOP/);
  });

  it('reads the head of a file, or all of a shorter one', async () => {
    const file = path.join(dir, 'head');
    writeFileSync(file, 'abcdef');
    expect((await readHead(file, 3)).toString()).toBe('abc');
    expect((await readHead(file, 100)).toString()).toBe('abcdef');
  });
});
