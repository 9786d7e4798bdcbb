// node-rtsp-stream ships no types. vigil uses only its MPEG-1 muxer (src/live/live-view.ts), loaded with
// createRequire: the package is CommonJS, and an ES import of the subpath would need the file extension.
declare module 'node-rtsp-stream/mpeg1muxer' {
  import type { ChildProcessWithoutNullStreams } from 'node:child_process';
  import { EventEmitter } from 'node:events';

  export interface Mpeg1MuxerOptions {
    /** The input, placed right after -i (so no input option can precede it). */
    url: string;
    ffmpegPath: string;
    /**
     * Output options, appended as key then value after `-f mpegts -codec:v mpeg1video`, in key order;
     * a value of '' adds the key alone (a flag).
     */
    ffmpegOptions?: Record<string, string | number>;
  }

  /**
   * Spawns `ffmpeg -i URL -f mpegts -codec:v mpeg1video ...ffmpegOptions -` in its constructor.
   * Events: 'mpeg1data' (Buffer, a chunk of ffmpeg's stdout), 'ffmpegStderr' (Buffer), 'exitWithError'
   * (after ffmpeg exits with code 1, which it also reports with console.error).
   */
  class Mpeg1Muxer extends EventEmitter {
    constructor(options: Mpeg1MuxerOptions);
    readonly url: string;
    readonly spawnOptions: string[];
    /** The ffmpeg child process. */
    readonly stream: ChildProcessWithoutNullStreams;
    exitCode: 1 | undefined;
  }

  export = Mpeg1Muxer;
}
