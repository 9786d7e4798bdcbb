// Turns ffmpeg's stderr lines into the few failures an operator can act on. ffmpeg's exit codes say
// little (it exits 0 when an RTSP server dies), so these lines and the stall watchdog are what tell
// vigil, and the operator, what went wrong.
import { redactCredentials } from '../config/redact.js';

export type CameraErrorKind =
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'invalid_data'
  | 'no_file'
  | 'unsupported'
  | 'stall'
  | 'exited';

export interface CameraError {
  kind: CameraErrorKind;
  /** What happened and what to check, for the log. */
  message: string;
  /** Will not fix itself: the camera or the config needs a person (the camera shows as failed). */
  needsAttention: boolean;
  /** The ffmpeg line it came from, credentials removed. */
  detail?: string;
}

const RULES: Array<{ test: RegExp; kind: CameraErrorKind; message: string; needsAttention: boolean }> = [
  { test: /404 Not Found|Stream not found/i, kind: 'not_found', needsAttention: true,
    message: 'the camera answered 404 Not Found: the stream path in the URL is wrong' },
  { test: /401 Unauthorized|authorization failed/i, kind: 'unauthorized', needsAttention: true,
    message: 'the camera rejected the credentials (401 Unauthorized): check user and password in the URL' },
  { test: /403 Forbidden/i, kind: 'forbidden', needsAttention: true,
    message: 'the camera refused access (403 Forbidden): check the account\'s permissions' },
  { test: /Connection refused/i, kind: 'refused', needsAttention: false,
    message: 'connection refused: the camera is off, rebooting, or the port in the URL is wrong' },
  { test: /No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution/i,
    kind: 'unreachable', needsAttention: false, message: 'the camera is unreachable on the network' },
  { test: /timed out|Operation timed out/i, kind: 'timeout', needsAttention: false,
    message: 'the camera stopped answering (network timeout)' },
  { test: /Invalid data found when processing input|moov atom not found/i, kind: 'invalid_data', needsAttention: true,
    message: 'the stream is not video ffmpeg can read (invalid data): check the URL points at a video stream' },
  { test: /No such file or directory/i, kind: 'no_file', needsAttention: true,
    message: 'the video file does not exist' },
  { test: /461 Unsupported Transport|Protocol not found|Option .* not found/i, kind: 'unsupported', needsAttention: true,
    message: 'the camera or ffmpeg does not support what was asked (transport or option)' },
];

export function classifyFfmpegLine(line: string): CameraError | undefined {
  for (const rule of RULES) {
    if (rule.test.test(line)) {
      return { kind: rule.kind, message: rule.message, needsAttention: rule.needsAttention, detail: redactCredentials(line.trim()) };
    }
  }
  return undefined;
}

/** Splits a stderr stream into whole lines (ffmpeg also ends progress lines with \r). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const lines = (this.rest + chunk.toString()).split(/\r?\n|\r/);
    this.rest = lines.pop() ?? '';
    if (this.rest.length > 4096) this.rest = this.rest.slice(-4096);
    for (const line of lines) if (line.trim()) this.onLine(line);
  }

  flush(): void {
    if (this.rest.trim()) this.onLine(this.rest);
    this.rest = '';
  }
}
