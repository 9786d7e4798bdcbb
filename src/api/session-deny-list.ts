// Session cookies are stateless (an HMAC keyed by the token), so signing out cannot un-sign one: a cookie
// copied before sign-out would work until it expires. Signed-out cookies are therefore remembered until
// their own expiry, in a small file beside the store, so a restart does not bring them back.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Sign-outs need a valid cookie, so only signed-in officers add entries; this bounds even a runaway script. */
const MAX_ENTRIES = 100_000;

export class SessionDenyList {
  private readonly file: string;
  /** Cookie MAC → its expiry (ms). */
  private readonly entries = new Map<string, number>();

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'revoked-sessions.json');
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, unknown>;
      for (const [mac, expires] of Object.entries(saved)) if (typeof expires === 'number') this.entries.set(mac, expires);
    } catch {
      // No file yet, or a damaged one: an empty list only re-admits cookies that were signed out, never new ones.
    }
    this.prune();
  }

  has(mac: string): boolean {
    return this.entries.has(mac);
  }

  add(mac: string, expires: number): void {
    this.prune();
    if (this.entries.size >= MAX_ENTRIES) {
      // Keep the latest sign-outs: the soonest-expiring entries are the least dangerous to forget.
      const soonest = [...this.entries].sort((a, b) => a[1] - b[1]).slice(0, this.entries.size - MAX_ENTRIES + 1);
      for (const [key] of soonest) this.entries.delete(key);
    }
    this.entries.set(mac, expires);
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.entries)), { mode: 0o600 });
    renameSync(temporary, this.file);
  }

  private prune(now = Date.now()): void {
    for (const [mac, expires] of this.entries) if (expires < now) this.entries.delete(mac);
  }
}
