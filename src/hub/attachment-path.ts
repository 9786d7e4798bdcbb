// Where a hub keeps an attachment: by its SHA-256, under data_dir/attachments, fanned out by the first two hex
// digits so that no folder holds millions of files. The same picture sent by two events is kept once.
export const ATTACHMENT_DIR = 'attachments';

/** The attachment's path relative to the hub's attachment folder. */
export function attachmentPath(sha256: string, extension = 'jpg'): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256 (64 lower-case hex digits): ${sha256}`);
  return `${sha256.slice(0, 2)}/${sha256}.${extension}`;
}
