// Police searches must be accountable: every search, image view, export, sign-in and refused credential is
// appended to data_dir/audit.log as one JSON line (who, when, where from, what was asked, how many results).
// Lines are only ever appended; at a size limit the file is closed and renamed audit-<time>.log, and closed
// files are deleted after the retention the config states (a year by default, as evidence rules expect), so
// the log neither grows without bound nor loses a line before its time.
import { appendFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AuditConfig } from '../config/schema.js';

export interface AuditEntry {
  who: string;
  via: 'cli' | 'api';
  query: string;
  results: number;
  from?: string;
  action?: string;
  /** An edited filter searched by the page, as it was sent. */
  filter?: unknown;
  /** The event an export or an image was of, and the export's own hash. */
  event?: number;
  sha256?: string;
}

export interface AuditRetention {
  maxFileBytes: number;
  retentionDays: number;
}

export const AUDIT_DEFAULTS: AuditRetention = { maxFileBytes: 64e6, retentionDays: 365 };

/** The config's `audit` section in the log's own units. */
export function auditRetention(config: { audit: AuditConfig }): AuditRetention {
  return { maxFileBytes: config.audit.max_file_mb * 1e6, retentionDays: config.audit.retention_days };
}

const CLOSED_FILE = /^audit-(\d{8}T\d{6}(?:\.\d{3})?Z)(?:-\d+)?\.log$/;

export class AuditLog {
  readonly file: string;
  private readonly dir: string;
  private bytes: number;

  constructor(
    dataDir: string,
    private retention: AuditRetention = AUDIT_DEFAULTS,
  ) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.dir = dataDir;
    this.file = path.join(dataDir, 'audit.log');
    this.bytes = sizeOf(this.file);
  }

  /** A config reload may change the limits; they apply from the next line. */
  setRetention(retention: AuditRetention): void {
    this.retention = retention;
  }

  write(entry: AuditEntry): void {
    const line = JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n';
    const size = Buffer.byteLength(line);
    if (this.bytes > 0 && this.bytes + size > this.retention.maxFileBytes) this.rotate();
    // Synchronous append: the entry is on disk before the answer leaves.
    appendFileSync(this.file, line, { mode: 0o600 });
    this.bytes += size;
  }

  /** The closed files, oldest first. */
  closedFiles(): string[] {
    return readdirSync(this.dir).filter((name) => CLOSED_FILE.test(name)).sort().map((name) => path.join(this.dir, name));
  }

  /** Deletes closed files past the retention (judged by when they were closed); returns how many. */
  prune(now = Date.now()): number {
    const cutoff = now - this.retention.retentionDays * 86_400_000;
    let deleted = 0;
    for (const file of this.closedFiles()) {
      const closedAt = Date.parse(compactToIso(CLOSED_FILE.exec(path.basename(file))![1]!));
      if (closedAt < cutoff) {
        rmSync(file, { force: true });
        deleted++;
      }
    }
    return deleted;
  }

  private rotate(): void {
    // Another process (`vigil search` beside the daemon) may have rotated it already: then start afresh.
    if (sizeOf(this.file) === 0) {
      this.bytes = 0;
      return;
    }
    const stamp = new Date().toISOString().replace(/[-:]/g, '');
    let target = path.join(this.dir, `audit-${stamp}.log`);
    for (let n = 1; sizeOf(target) > 0; n++) target = path.join(this.dir, `audit-${stamp}-${n}.log`);
    renameSync(this.file, target);
    this.bytes = 0;
    this.prune();
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function compactToIso(stamp: string): string {
  return `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`;
}
