// Police searches must be accountable: every search is appended to data_dir/audit.log as one JSON line
// (who, when, where from, what was asked, how many results). The file is only ever appended to.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

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

export class AuditLog {
  readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, 'audit.log');
  }

  write(entry: AuditEntry): void {
    // Synchronous append: the entry is on disk before the answer leaves.
    appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n', { mode: 0o640 });
  }
}
