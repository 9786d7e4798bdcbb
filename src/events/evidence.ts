// An event packed as evidence: the images exactly as captured, the event record, and a SHA-256 manifest
// in the format `sha256sum -c` checks. The snapshots are hashed again before they are packed: a file that
// no longer matches the hash recorded at capture is refused, never exported as if it were intact.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { isoLocal } from '../time/local-time.js';
import { eventJson } from './event-json.js';
import type { SnapshotWriter } from './snapshots.js';
import type { StoredEvent } from './store.js';

export interface EvidenceMeta {
  exportedBy: string;
  exportedAt: Date;
  version: string;
  /** The box it came from: investigators need to say where a file was obtained. */
  host: string;
  timeZone: string;
}

export interface EvidencePackage {
  fileName: string;
  zip: Uint8Array;
  /** SHA-256 of the zip itself, for the audit log and the officer's notes. */
  sha256: string;
  files: Array<{ name: string; sha256: string; bytes: number }>;
}

export class EvidenceTamperedError extends Error {}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** `clipsRoot`: where the box keeps clips (data_dir/clips); without it, the event's clips are not packed. */
export async function buildEvidence(event: StoredEvent, snapshots: SnapshotWriter, meta: EvidenceMeta, clipsRoot?: string): Promise<EvidencePackage> {
  // The box's local time, as the officer saw it on the page, with its offset so the name is unambiguous.
  const stamp = isoLocal(new Date(event.start), meta.timeZone).replace(/[-:]/g, '');
  const folder = `vigil-event-${event.id}-${stamp}`;
  const contents = new Map<string, Uint8Array>();

  for (const which of ['frame', 'crop'] as const) {
    const ref = event[which];
    if (!ref) continue;
    let data: Buffer;
    try {
      data = await snapshots.readVerified(ref);
    } catch (err) {
      throw new EvidenceTamperedError(`event ${event.id}: the ${which} ${(err as Error).message}`);
    }
    contents.set(`${which}.jpg`, data);
  }

  if (clipsRoot) {
    for (const [part, clip] of event.clips.entries()) {
      const name = part === 0 ? 'clip.mp4' : `clip-${part + 1}.mp4`;
      let data: Buffer;
      try {
        data = await readFile(path.join(clipsRoot, clip.path));
      } catch (err) {
        throw new EvidenceTamperedError(`event ${event.id}: its clip ${clip.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      const actual = sha256(data);
      if (actual !== clip.sha256) {
        throw new EvidenceTamperedError(`event ${event.id}: the clip ${clip.path} no longer matches the SHA-256 recorded when it was written (${clip.sha256}, now ${actual})`);
      }
      contents.set(name, data);
    }
  }

  const record = {
    event: eventJson(event),
    export: {
      exported_by: meta.exportedBy,
      exported_at: isoLocal(meta.exportedAt, meta.timeZone),
      host: meta.host,
      vigil_version: meta.version,
      time_zone: meta.timeZone,
      note:
        'frame.jpg and crop.jpg are byte-identical to the files written at capture; their SHA-256 equal event.snapshots.*.sha256. ' +
        "clip.mp4 (and clip-2.mp4, ... for a long event) is byte-identical to the clip written when the event ended, copied from the camera's own stream without re-encoding; its SHA-256 equals event.clips[].sha256.",
    },
  };
  contents.set('event.json', strToU8(JSON.stringify(record, null, 2) + '\n'));

  const files = [...contents].map(([name, data]) => ({ name, sha256: sha256(data), bytes: data.length }));
  const manifest = files.map((f) => `${f.sha256}  ${f.name}\n`).join('');
  contents.set('SHA256SUMS', strToU8(manifest));

  const tree: Zippable = {};
  // JPEGs and video do not compress; storing them keeps the export fast and the bytes recognisable inside the zip.
  for (const [name, data] of contents) tree[`${folder}/${name}`] = [data, { level: /\.(jpg|mp4)$/.test(name) ? 0 : 6, mtime: meta.exportedAt }];
  const zip = zipSync(tree);
  return { fileName: `${folder}.zip`, zip, sha256: sha256(zip), files };
}
