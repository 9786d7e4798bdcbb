// What a process costs, read from Linux's /proc: resident memory, threads, open file descriptors, and its
// child processes (ffmpeg per camera), including zombies nobody reaped and orphans that outlived their parent.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStatus {
  /** VmRSS, bytes. */
  rssBytes: number;
  /** VmHWM, bytes: the highest RSS since start or since the last `clear_refs` 5. */
  peakRssBytes: number;
  threads: number;
  /** One letter: R running, S sleeping, T stopped, Z zombie, ... */
  state: string;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The executable's short name from /proc/PID/stat (still there for a zombie, unlike the command line). */
  comm: string;
  state: string;
  /** The command line, arguments split; empty for a zombie. */
  argv: string[];
}

/** /proc/PID/status of a live process; throws, naming the pid, when it is gone. */
export function procStatus(pid: number): ProcStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  const bytes = (name: string) => Number((field(name) ?? '0 kB').split(/\s+/)[0]) * 1024;
  return { rssBytes: bytes('VmRSS'), peakRssBytes: bytes('VmHWM'), threads: Number(field('Threads')), state: (field('State') ?? '?')[0]! };
}

/** How many file descriptors the process has open. */
export function openFdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** What each open descriptor of the process points at (socket:[…], pipe:[…], a path), for failure messages. */
export function openFdTargets(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      out.push(`${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`);
    } catch {
      // closed while we looked
    }
  }
  return out;
}

/** Summarises descriptor targets by kind (socket, pipe, anon_inode:[eventfd], file paths by directory). */
export function fdKinds(pid: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const line of openFdTargets(pid)) {
    const target = line.split(' -> ')[1] ?? '';
    const kind = /^(socket|pipe):/.exec(target)?.[1] ?? (target.startsWith('anon_inode:') ? target : target.startsWith('/') ? 'file' : target);
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/** Every process on the box that we can read, with parent, name and state. */
export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

export function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm is in parentheses and may itself contain spaces or parentheses: split at the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(open + 1, close);
    const [state = '?', ppid = '0'] = stat.slice(close + 2).split(' ');
    let argv: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
    } catch {
      // gone, or a kernel thread
    }
    return { pid, ppid: Number(ppid), comm, state, argv };
  } catch {
    return undefined; // exited while we looked
  }
}

/** True while the process exists and is not a zombie (a zombie still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  const info = procInfo(pid);
  return info !== undefined && info.state !== 'Z';
}

export function childProcesses(pid: number): ProcInfo[] {
  return allProcesses().filter((p) => p.ppid === pid);
}

const isFfmpeg = (p: ProcInfo) => p.comm === 'ffmpeg' || /(^|\/)ffmpeg$/.test(p.argv[0] ?? '');
/** A clip or export being assembled: ffmpeg fed recorded segments on its stdin (src/recording/clip-assembler.ts). */
const readsStdin = (p: ProcInfo) => p.argv.some((a, i) => a === 'pipe:0' && p.argv[i - 1] === '-i');

/**
 * The daemon's ffmpeg children: running ones, and zombies (exited, never reaped). `cameras` are the running
 * ones that read a camera (one per camera that is up, for as long as the camera is); `clips` the ones that
 * assemble a clip or an export from recorded segments, which come and go with events. A child caught in the
 * middle of its exec is in `running` only.
 */
export function ffmpegChildren(pid: number): { running: ProcInfo[]; zombies: ProcInfo[]; cameras: ProcInfo[]; clips: ProcInfo[] } {
  const ffmpeg = childProcesses(pid).filter(isFfmpeg);
  const running = ffmpeg.filter((p) => p.state !== 'Z');
  return {
    running,
    zombies: ffmpeg.filter((p) => p.state === 'Z'),
    // Just after exec the name is ffmpeg's while the command line is still empty: such a child is neither yet.
    cameras: running.filter((p) => p.argv.length > 0 && !readsStdin(p)),
    clips: running.filter(readsStdin),
  };
}

/**
 * How many of a child's standard descriptors (0-2, and 3 when it writes `pipe:3`) are pipes or sockets: each
 * is the far end of one its parent holds (Node's 'pipe' stdio is a socket pair, whose two ends have different
 * inodes, so the ends cannot be matched by inode). 0 for a child that exited while we looked.
 */
export function stdioPipeEnds(child: ProcInfo): number {
  const fds = child.argv.includes('pipe:3') ? [0, 1, 2, 3] : [0, 1, 2];
  let n = 0;
  for (const fd of fds) {
    try {
      if (/^(pipe|socket):/.test(readlinkSync(`/proc/${child.pid}/fd/${fd}`))) n++;
    } catch {
      // not open, or the child is gone
    }
  }
  return n;
}

/**
 * ffmpeg processes anywhere on the box whose command line contains one of `markers` (e.g. the test's own
 * camera ports) but whose parent is not `parentPid`: children that outlived their parent or were orphaned.
 */
export function orphanFfmpeg(parentPid: number, markers: string[]): ProcInfo[] {
  return allProcesses().filter(
    (p) => isFfmpeg(p) && p.ppid !== parentPid && markers.some((m) => p.argv.some((a) => a.includes(m))),
  );
}

/** ffmpeg processes anywhere on the box whose command line contains one of `markers`, whoever their parent. */
export function ffmpegWith(markers: string[]): ProcInfo[] {
  return allProcesses().filter((p) => isFfmpeg(p) && markers.some((m) => p.argv.some((a) => a.includes(m))));
}

/** One line per process for failure messages: "1234 (ffmpeg, S, parent 99): ffmpeg -i rtsp://…". */
export function describeProcesses(list: ProcInfo[]): string {
  return list.map((p) => `${p.pid} (${p.comm}, ${p.state}, parent ${p.ppid}): ${p.argv.join(' ').slice(0, 160)}`).join('\n') || '(none)';
}
