// A frame as the attribute stage and the recorder see it: converted from yuv420p to RGB at most once, when
// first asked, however many objects, enrichers and snapshots use it.
import type { RgbImage, YuvImage } from '../image/image.js';
import { yuv420pToRgb } from '../image/yuv.js';

export class Picture {
  private converted: RgbImage | undefined;

  constructor(readonly frame: YuvImage) {}

  get width(): number {
    return this.frame.width;
  }

  get height(): number {
    return this.frame.height;
  }

  get rgb(): RgbImage {
    return (this.converted ??= yuv420pToRgb(this.frame));
  }
}
