// Splits an H.264 Annex B elementary stream into access units (one coded picture each), so the
// test RTSP server can send them one frame period apart like a real camera.

export interface AccessUnit {
  nals: Buffer[];
  keyframe: boolean;
}

export interface H264Stream {
  units: AccessUnit[];
  sps: Buffer;
  pps: Buffer;
}

export function splitNals(data: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let start = -1;
  let i = 0;
  while (i + 2 < data.length) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) nals.push(trimTrailingZeros(data.subarray(start, i)));
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < data.length) nals.push(trimTrailingZeros(data.subarray(start)));
  return nals.filter((n) => n.length > 0);
}

// A 4-byte start code leaves its leading zero on the end of the previous NAL.
function trimTrailingZeros(nal: Buffer): Buffer {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  return nal.subarray(0, end);
}

export function parseH264(data: Buffer): H264Stream {
  const units: AccessUnit[] = [];
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let current: AccessUnit = { nals: [], keyframe: false };
  let hasPicture = false;
  for (const nal of splitNals(data)) {
    const type = nal[0]! & 0x1f;
    const isVcl = type === 1 || type === 5;
    // first_mb_in_slice == 0 (its ue(v) code is a single 1 bit) marks the first slice of a new picture.
    const firstSlice = isVcl && (nal[1]! & 0x80) !== 0;
    const startsUnit = hasPicture && (type === 9 || type === 7 || type === 8 || type === 6 || firstSlice);
    if (startsUnit) {
      units.push(current);
      current = { nals: [], keyframe: false };
      hasPicture = false;
    }
    if (type === 7) sps ??= nal;
    if (type === 8) pps ??= nal;
    if (type === 9) continue; // access unit delimiters carry nothing a reader needs
    current.nals.push(nal);
    if (isVcl) hasPicture = true;
    if (type === 5) current.keyframe = true;
  }
  if (hasPicture) units.push(current);
  if (!sps || !pps) throw new Error('H.264 stream has no SPS/PPS');
  if (!units[0]?.keyframe) throw new Error('H.264 stream does not start with a keyframe');
  return { units, sps, pps };
}
