// jemalloc's own account of the daemon's native memory, read from outside. With `MALLOC_CONF=stats_interval:N`
// jemalloc prints its totals to stderr after about every N bytes allocated (jemalloc 5.3's opt.stats_interval;
// the options below leave out everything but the totals, ~230 bytes a print). `allocated` is what the process
// holds in malloc'd blocks (onnxruntime, libvips, SQLite, and Node's ArrayBuffers); `resident` is what jemalloc
// has in RAM for them, including freed pages it has not yet given back.

export interface JemallocStats {
  allocated: number;
  active: number;
  metadata: number;
  resident: number;
  mapped: number;
  retained: number;
}

/** MALLOC_CONF entries that make jemalloc print its totals every `intervalBytes` of allocation. */
export function jemallocStatsConf(intervalBytes: number): string {
  // J: JSON; g m d a b l x e h: leave out the configuration, merged, destroyed and per-arena, bin, large,
  // mutex, extent and HPA statistics.
  return `stats_interval:${Math.round(intervalBytes)},stats_interval_opts:Jgmdablxeh`;
}

const PRINT = /\{"jemalloc":\{"stats":\{"allocated":(\d+),"active":(\d+),"metadata":(\d+),"metadata_thp":\d+,"resident":(\d+),"mapped":(\d+),"retained":(\d+)/g;

/** Reads the prints that arrived since the last call from a growing stderr text. */
export class JemallocStatsReader {
  private offset = 0;

  constructor(private readonly text: () => string) {}

  next(): JemallocStats[] {
    const all = this.text();
    // A print may be cut in two by a pipe read: parse only up to the last complete one.
    const end = all.lastIndexOf('}}}}');
    if (end < this.offset) return [];
    const fresh = all.slice(this.offset, end + 4);
    this.offset = end + 4;
    return [...fresh.matchAll(PRINT)].map((m) => ({
      allocated: Number(m[1]),
      active: Number(m[2]),
      metadata: Number(m[3]),
      resident: Number(m[4]),
      mapped: Number(m[5]),
      retained: Number(m[6]),
    }));
  }
}
