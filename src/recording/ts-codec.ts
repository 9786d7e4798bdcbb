// Which video codec an MPEG-TS segment carries, read from its program map table: the clip maker tags H.265
// for the players that can play it, and the page tells the officer when a browser cannot.

const PACKET = 188;
/** ISO/IEC 13818-1 stream_type values of the codecs cameras send. */
const STREAM_TYPES: Record<number, string> = { 0x1b: 'h264', 0x24: 'hevc', 0x10: 'mpeg4', 0x02: 'mpeg2video', 0x01: 'mpeg1video' };

/** The first video stream's codec ('h264', 'hevc', ...), or undefined when no program map table is found. */
export function tsVideoCodec(data: Buffer): string | undefined {
  let pmtPid: number | undefined;
  for (let at = data.indexOf(0x47); at >= 0 && at + PACKET <= data.length; at += PACKET) {
    if (data[at] !== 0x47) return undefined;
    const pid = ((data[at + 1]! & 0x1f) << 8) | data[at + 2]!;
    const payloadStart = (data[at + 1]! & 0x40) !== 0;
    const adaptation = (data[at + 3]! >> 4) & 0x3;
    if (!payloadStart || adaptation === 2) continue;
    let p = at + 4 + (adaptation === 3 ? 1 + data[at + 4]! : 0);
    p += 1 + data[p]!; // pointer field
    if (p + 8 > at + PACKET) continue;
    const sectionLength = ((data[p + 1]! & 0x0f) << 8) | data[p + 2]!;
    const end = Math.min(at + PACKET, p + 3 + sectionLength - 4);
    if (pid === 0 && data[p] === 0x00) {
      // PAT: the first program's map PID.
      for (let q = p + 8; q + 4 <= end; q += 4) {
        const program = (data[q]! << 8) | data[q + 1]!;
        if (program !== 0) {
          pmtPid = ((data[q + 2]! & 0x1f) << 8) | data[q + 3]!;
          break;
        }
      }
    } else if (pid === pmtPid && data[p] === 0x02) {
      const infoLength = ((data[p + 10]! & 0x0f) << 8) | data[p + 11]!;
      for (let q = p + 12 + infoLength; q + 5 <= end; ) {
        const type = data[q]!;
        const codec = STREAM_TYPES[type];
        if (codec) return codec;
        q += 5 + (((data[q + 3]! & 0x0f) << 8) | data[q + 4]!);
      }
      return undefined;
    }
  }
  return undefined;
}
