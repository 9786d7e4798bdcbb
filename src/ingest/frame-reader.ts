// Cuts ffmpeg's raw yuv420p byte stream into frames and hands them to one consumer, newest first.
//
// Three preallocated buffers rotate: one being filled from the pipe, one waiting for the consumer, one
// held by the consumer. When a frame completes while the consumer is still busy, it replaces the waiting
// one (which is counted as dropped): a slow consumer always gets the newest picture, readers never block
// and memory never grows.
import { imageBytes } from '../image/image.js';

export interface Frame {
  camera: string;
  /** Frame number since vigil started watching this camera (continues across reconnects). */
  seq: number;
  /** Wall-clock milliseconds when the frame's last byte arrived from ffmpeg. */
  capturedAt: number;
  width: number;
  height: number;
  /** yuv420p: Y plane (width×height), then U and V (width/2 × height/2 each). Valid until the consumer returns. */
  data: Buffer;
}

export type FrameConsumer = (frame: Frame) => void | Promise<void>;

export type DropReason = 'busy' | 'truncated';

export interface FrameReaderEvents {
  onFrame?(frame: Frame): void;
  onDrop?(reason: DropReason): void;
  onConsumerError?(err: unknown): void;
}


export class FrameReader {
  readonly frameSize: number;
  private free: Buffer[];
  private filling: Buffer;
  private offset = 0;
  private waiting: Frame | undefined;
  private busy = false;
  private seq = 0;
  private consumer: FrameConsumer | undefined;

  constructor(
    readonly camera: string,
    readonly width: number,
    readonly height: number,
    private readonly events: FrameReaderEvents = {},
  ) {
    this.frameSize = imageBytes('yuv420p', width, height);
    // allocUnsafeSlow: each frame owns its memory outright instead of sharing Node's small-buffer pool.
    this.free = [Buffer.allocUnsafeSlow(this.frameSize), Buffer.allocUnsafeSlow(this.frameSize)];
    this.filling = Buffer.allocUnsafeSlow(this.frameSize);
  }

  setConsumer(consumer: FrameConsumer | undefined): void {
    this.consumer = consumer;
  }

  /** Feeds one chunk of ffmpeg's stdout; chunks may split frames anywhere. */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const n = Math.min(chunk.length - pos, this.frameSize - this.offset);
      chunk.copy(this.filling, this.offset, pos, pos + n);
      this.offset += n;
      pos += n;
      if (this.offset === this.frameSize) this.complete();
    }
  }

  /** The stream ended (ffmpeg exited): a partly read frame is discarded. */
  reset(): void {
    if (this.offset > 0) this.events.onDrop?.('truncated');
    this.offset = 0;
  }

  private complete(): void {
    const frame: Frame = {
      camera: this.camera,
      seq: this.seq++,
      capturedAt: Date.now(),
      width: this.width,
      height: this.height,
      data: this.filling,
    };
    this.offset = 0;
    this.events.onFrame?.(frame);
    if (this.waiting) {
      this.free.push(this.waiting.data);
      this.events.onDrop?.('busy');
    }
    this.waiting = frame;
    this.filling = this.free.pop()!;
    this.deliver();
  }

  private deliver(): void {
    if (this.busy || !this.waiting) return;
    const frame = this.waiting;
    this.waiting = undefined;
    if (!this.consumer) {
      this.free.push(frame.data);
      return;
    }
    this.busy = true;
    let result: void | Promise<void> = undefined;
    try {
      result = this.consumer(frame);
    } catch (err) {
      this.events.onConsumerError?.(err);
    }
    if (result instanceof Promise) {
      result.catch((err: unknown) => this.events.onConsumerError?.(err)).finally(() => this.release(frame));
    } else {
      this.release(frame);
    }
  }

  private release(frame: Frame): void {
    this.free.push(frame.data);
    this.busy = false;
    this.deliver();
  }
}
