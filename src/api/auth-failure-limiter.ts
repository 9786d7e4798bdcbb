// Tokens are long and random, but nothing should let a client on the LAN guess at them at line rate. Each
// client address may present a limited number of wrong credentials per minute; past that every credential
// it presents, right or wrong, is refused with 429 until its minute is over, so guessing learns nothing.

interface Window {
  started: number;
  failures: number;
  /** Whether the refusal was already audited this window (one line per lockout, not one per request). */
  reported: boolean;
}

/** Forget quiet addresses, so the table cannot grow with every address that ever failed once. */
const MAX_ADDRESSES = 10_000;

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    /** Read at every request: a config reload may change it. */
    private readonly perMinute: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the address may try again, or 0 when it may try now. */
  blockedFor(address: string): number {
    const window = this.current(address);
    if (!window || window.failures < this.perMinute()) return 0;
    return Math.max(1, window.started + 60_000 - this.now());
  }

  /** Records a wrong credential; true when this failure reached the limit. */
  fail(address: string): boolean {
    let window = this.current(address);
    if (!window) {
      if (this.windows.size >= MAX_ADDRESSES) this.sweep();
      window = { started: this.now(), failures: 0, reported: false };
      this.windows.set(address, window);
    }
    window.failures++;
    return window.failures === this.perMinute();
  }

  /** True once per lockout: whether this refusal should be written to the audit log. */
  reportRefusal(address: string): boolean {
    const window = this.current(address);
    if (!window || window.reported) return false;
    window.reported = true;
    return true;
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window && this.now() - window.started >= 60_000) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }

  private sweep(): void {
    for (const address of [...this.windows.keys()]) this.current(address);
    // Still full of live windows: an address flood. Drop the oldest half; they had the least time left.
    if (this.windows.size >= MAX_ADDRESSES) {
      const oldest = [...this.windows].sort((a, b) => a[1].started - b[1].started).slice(0, MAX_ADDRESSES / 2);
      for (const [address] of oldest) this.windows.delete(address);
    }
  }
}
