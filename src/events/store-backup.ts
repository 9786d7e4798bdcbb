// A backup of a box's evidence while the daemon runs: SQLite's online backup of the event store (a
// consistent snapshot even while events are being written; copying the file would not be), the snapshot
// JPEGs that are not in the backup yet (they are never changed once written, so a file already there is
// the same file), the event clips (likewise), and the audit log. Recorded segments are not copied: the ring is
// minutes long, and continuous recording is too large for a backup of this kind (docs/operations.md). The API token is left out: it is a secret, and a restored box can
// be given a new one.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PARTIAL_SUFFIX } from '../recording/clip-assembler.js';

export interface BackupSummary {
  destination: string;
  events: number;
  lastSeq: number;
  databaseBytes: number;
  snapshotsCopied: number;
  snapshotsKept: number;
  clipsCopied: number;
  clipsKept: number;
  seconds: number;
}

export async function backupStore(dataDir: string, destination: string, version: string): Promise<BackupSummary> {
  const started = performance.now();
  const source = path.join(dataDir, 'events.db');
  if (!existsSync(source)) throw new Error(`no event store at ${source}: is data_dir right?`);
  mkdirSync(destination, { recursive: true });
  const target = path.join(destination, 'events.db');
  const partial = `${target}.partial`;

  const db = new Database(source, { readonly: true, fileMustExist: true });
  let events: number;
  let lastSeq: number;
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(partial);
  } finally {
    db.close();
  }
  // Counted in the copy, so the summary describes what was saved, not what the store holds by now.
  const copy = new Database(partial, { fileMustExist: true });
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the backup of ${source} failed its integrity check: ${String(check)}`);
    events = (copy.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    lastSeq = (copy.prepare("SELECT value FROM meta WHERE key = 'last_seq'").get() as { value: number }).value;
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  // Only a complete, checked copy replaces the previous backup (rename is atomic).
  renameSync(partial, target);

  const walk = (from: string, to: string, counts = { copied: 0, kept: 0 }) => {
    if (!existsSync(from)) return counts;
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const a = path.join(from, entry.name);
      const b = path.join(to, entry.name);
      if (entry.isDirectory()) walk(a, b, counts);
      // A clip still being written has no row yet (and is renamed when it is whole).
      else if (entry.name.endsWith(PARTIAL_SUFFIX)) continue;
      else if (existsSync(b) && statSync(b).size === statSync(a).size) counts.kept++;
      else {
        copyFileSync(a, b);
        counts.copied++;
      }
    }
    return counts;
  };
  const snapshots = walk(path.join(dataDir, 'snapshots'), path.join(destination, 'snapshots'));
  const clips = walk(path.join(dataDir, 'clips'), path.join(destination, 'clips'));
  // The open audit log and the closed ones (audit-<time>.log) that its size limit rotated out.
  for (const name of readdirSync(dataDir)) {
    if (name === 'audit.log' || /^audit-.*\.log$/.test(name)) copyFileSync(path.join(dataDir, name), path.join(destination, name));
  }

  const summary: BackupSummary = {
    destination,
    events,
    lastSeq,
    databaseBytes: statSync(target).size,
    snapshotsCopied: snapshots.copied,
    snapshotsKept: snapshots.kept,
    clipsCopied: clips.copied,
    clipsKept: clips.kept,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
  writeFileSync(path.join(destination, 'BACKUP.json'), JSON.stringify({ created: new Date().toISOString(), vigil_version: version, source: dataDir, ...summary }, null, 2) + '\n');
  return summary;
}
