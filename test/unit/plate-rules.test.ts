// The plate rules: which texts are plates of which type, and how a reading is corrected by them.
import { describe, expect, it } from 'vitest';
import { correctPlate, isPlate, plateLength, plateType, type PlateChar } from '../../src/plates/plate-rules.js';

/** A reading: characters at 0.9 unless given, runners-up as `X:0.3` after a slash: 'O/Q:0.4,D:0.1'. */
function reading(...spec: Array<string | [string, number, string?]>): PlateChar[] {
  return spec.map((s) => {
    const [char, confidence, alts] = typeof s === 'string' ? [s, 0.9, ''] : [s[0], s[1], s[2] ?? ''];
    const alternatives = alts ? alts.split(',').map((a) => ({ char: a.split(':')[0]!, confidence: Number(a.split(':')[1]) })) : [];
    return { char, confidence, alternatives };
  });
}
const text = (chars: PlateChar[]) => chars.map((c) => c.char).join('');

describe('plate types and lengths', () => {
  it('knows 7-character ordinary and special plates and 8-character new-energy plates', () => {
    expect([plateType('贵F12345'), plateLength(plateType('贵F12345'))]).toEqual(['ordinary', 7]);
    expect([plateType('粤AD12345'), plateLength(plateType('粤AD12345'))]).toEqual(['new-energy', 8]);
    for (const special of ['贵A1234警', '皖Q0686学', '沪A1707领', '粤Z1234港', '贵A123B挂']) expect(plateType(special), special).toBe('special');
  });

  it('accepts each type only at its own length and shape', () => {
    for (const ok of ['贵F12345', '湘F8ZS83', '粤AD12345', '粤AFA1345', '粤A12345D', '粤OT9048', '贵A1234警', '皖Q0686学', '贵A123B挂', '沪A1707领'])
      expect(isPlate(ok), ok).toBe(true);
    const bad = [
      '贵F1234', // short
      '辽BG0D0808', // 9
      '辽BG0D080', // 8 but not new-energy shaped (no D/F third or last)
      '粤AD1234S', // new-energy: the last four are digits
      '贵A12345警', // 8 with a suffix
      '贵AB234警', // letters before 警
      '皖OA2825', // O is a city letter only in 粤O
      '皖AAB3C5', // three letters in the serial
      '贵I12345',
      'AF12345',
    ];
    for (const no of bad) expect(isPlate(no), no).toBe(false);
  });
});

describe('correctPlate', () => {
  it('cuts an 8-character read of a blue plate to 7, dropping the least sure character', () => {
    const read = reading('辽', 'B', 'G', '0', 'D', ['0', 0.4], '8', '0');
    expect(text(correctPlate(read, 'blue'))).toBe('辽BG0D80');
    // Never longer than 7 without a new-energy shape, whatever the colour.
    expect(correctPlate(read, null)).toHaveLength(7);
    expect(correctPlate(reading('辽', 'B', 'G', '0', 'D', '0', '8', '0', ['8', 0.2]), null)).toHaveLength(7);
  });

  it('keeps 8 on a new-energy plate, but not when the plate is blue', () => {
    const read = reading('粤', 'A', 'D', '1', '2', ['3', 0.5], '4', '5');
    expect(text(correctPlate(read, 'green'))).toBe('粤AD12345');
    expect(text(correctPlate(read, null))).toBe('粤AD12345');
    expect(text(correctPlate(read, 'blue'))).toBe('粤AD1245');
  });

  it('gives the city letter its letter runner-up, and O only to 粤', () => {
    expect(text(correctPlate(reading('皖', ['O', 0.5, 'Q:0.3,D:0.1'], 'A', '2', '8', '2', '5'), 'blue'))).toBe('皖QA2825');
    expect(text(correctPlate(reading('皖', ['O', 0.5, 'Q:0.1,D:0.3'], 'A', '2', '8', '2', '5'), 'blue'))).toBe('皖DA2825');
    expect(text(correctPlate(reading('粤', ['O', 0.5, 'Q:0.3'], 'T', '9', '0', '4', '8'), 'black'))).toBe('粤OT9048');
  });

  it('makes the digits of new-energy and 警/学 serials digits, from the runners-up or the confusable', () => {
    expect(text(correctPlate(reading('粤', 'A', 'D', '1', '2', '3', '4', ['S', 0.6, 'B:0.2,5:0.3']), 'green'))).toBe('粤AD12345');
    expect(text(correctPlate(reading('粤', 'A', '1', '2', ['B', 0.6], '4', '5', 'D'), 'green'))).toBe('粤A12845D');
    expect(text(correctPlate(reading('皖', 'Q', '0', '6', '8', ['G', 0.7], '学'), 'yellow'))).toBe('皖Q0686学');
    expect(text(correctPlate(reading('贵', 'A', ['Z', 0.7, '7:0.2,2:0.1'], '2', '3', '4', '警'), 'white'))).toBe('贵A7234警');
    // A trailer's serial may hold letters: left alone.
    expect(text(correctPlate(reading('贵', 'A', '1', '2', '3', 'B', '挂'), 'yellow'))).toBe('贵A123B挂');
  });

  it('leaves letters where an ordinary plate allows them, up to two in the serial', () => {
    // The last positions of an ordinary plate allow letters: S stays S, G stays G.
    expect(text(correctPlate(reading('皖', 'A', 'T', '7', '8', '9', ['S', 0.8, '5:0.15']), 'blue'))).toBe('皖AT789S');
    expect(text(correctPlate(reading('湘', 'F', '8', 'Z', 'S', '8', '3'), 'blue'))).toBe('湘F8ZS83');
    // A third letter: the one least sure against its digit runner-up becomes that digit.
    const three = reading('湘', 'A', ['G', 0.9, '6:0.05'], ['Z', 0.5, '7:0.45,2:0.05'], ['S', 0.8, '5:0.1'], '8', '3');
    expect(text(correctPlate(three, 'blue'))).toBe('湘AG7S83');
  });

  it('keeps the replaced character as a runner-up and its own confidence for the new one', () => {
    const [, city] = correctPlate(reading('皖', ['O', 0.5, 'Q:0.3'], 'A', '2', '8', '2', '5'), 'blue');
    expect(city).toEqual({ char: 'Q', confidence: 0.3, alternatives: [{ char: 'O', confidence: 0.5 }] });
  });
});
