// The pictures that flow through vigil: camera frames as ingest delivers them (yuv420p: the Y plane is the grey
// image motion needs, the chroma planes at half size) and decoded photos or converted regions (RGB).

export interface RgbImage {
  kind: 'rgb';
  width: number;
  height: number;
  /** Interleaved R, G, B bytes, row by row. */
  data: Uint8Array;
}

export interface YuvImage {
  kind: 'yuv420p';
  width: number;
  height: number;
  /** Y plane, then U and V at half resolution. */
  data: Uint8Array;
}

export type Image = RgbImage | YuvImage;

/** Bytes of an image of this kind and size (a yuv420p frame is 1.5 bytes a pixel). */
export function imageBytes(kind: Image['kind'], width: number, height: number): number {
  return kind === 'rgb' ? width * height * 3 : width * height + 2 * (width / 2) * (height / 2);
}

export function validateImage(image: Image): void {
  const expected = imageBytes(image.kind, image.width, image.height);
  if (image.data.length < expected) {
    throw new Error(`${image.kind} image ${image.width}x${image.height} needs ${expected} bytes, got ${image.data.length}`);
  }
}
