// What a Chinese licence plate may say, and the corrections a reading gets from it. All plate rules live here.
//
// - Ordinary plates (blue, yellow, black): province, city letter, five letters or digits: 7 characters. The
//   five (the serial) hold at most two letters; I and O are never used. The city letter O exists only as 粤O
//   (police and government).
// - Green new-energy plates: 8 characters. Small vehicles: D or F third (粤AD12345), then a letter or digit,
//   then four digits; large vehicles: five digits, then D or F (粤A12345D).
// - Special plates end in their suffix after four characters, 7 in all: 警 police (white), 学 learner
//   (yellow), 挂 trailer, 港/澳 Hong Kong/Macau, 领 consulate (black). Before 警 学 港 澳 领 the four are
//   digits; a trailer's may hold letters.

export const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
export const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
/** The city letter may also be O: 粤O is the police and government prefix. */
export const CITY_LETTERS = LETTERS + 'O';
export const DIGITS = '0123456789';
export const SUFFIXES = '警学挂港澳领';
/** Suffixes whose four serial characters are digits. */
const DIGIT_SUFFIXES = '警学港澳领';
/** Characters a plate may contain after its province. */
export const BODY = LETTERS + DIGITS;
/** The letter that marks a new-energy plate (D electric, F hybrid). */
const NEW_ENERGY = 'DF';
/** Most letters an ordinary plate's five-character serial holds. */
const MAX_SERIAL_LETTERS = 2;

/** Characters that the recogniser confuses on plates; each maps to what it can stand for. */
export const CONFUSABLE: Record<string, string> = {
  '0': 'ODQ', O: '0DQ', D: '0OQ', Q: '0OD',
  '1': 'I', I: '1',
  '8': 'B', B: '8',
  '2': 'Z', Z: '27',
  '7': 'Z',
  '5': 'S', S: '5',
  '6': 'G', G: '6',
  川: 'M', M: '川',
};

/** One character of a reading: what the recogniser says, how sure, and its runners-up. */
export interface PlateChar {
  char: string;
  confidence: number;
  alternatives: Array<{ char: string; confidence: number }>;
}

export type PlateType = 'ordinary' | 'new-energy' | 'special';

/** The separator dot and any spaces or punctuation the recogniser puts between groups. */
export function normalisePlate(text: string): string {
  return text.replace(/[·•.\-\s:：_]/g, '').toUpperCase();
}

/** An 8-character text shaped like a new-energy plate: D/F third or last, digits where they must be. */
function newEnergyShape(chars: readonly string[], lenient = false): boolean {
  if (chars.length !== 8) return false;
  const serial = chars.slice(2);
  // Lenient: a letter that reads as a digit (S for 5) still counts as one, before it is corrected.
  const digit = (c: string) => DIGITS.includes(c) || (lenient && [...(CONFUSABLE[c] ?? '')].some((d) => DIGITS.includes(d)));
  const digits = (s: string[]) => s.every(digit);
  if (NEW_ENERGY.includes(serial[0]!) && BODY.includes(serial[1]!) && digits(serial.slice(2))) return true;
  return NEW_ENERGY.includes(serial[5]!) && digits(serial.slice(0, 5));
}

/** The type of a plate's text (normalised). */
export function plateType(text: string): PlateType {
  const chars = [...text];
  if (SUFFIXES.includes(chars[chars.length - 1] ?? '')) return 'special';
  return chars.length === 8 ? 'new-energy' : 'ordinary';
}

/** How many characters a plate of this type has. */
export function plateLength(type: PlateType): number {
  return type === 'new-energy' ? 8 : 7;
}

/** Whether `text` (normalised) has the shape of a plate: 7 characters, 8 for new energy. */
export function isPlate(text: string): boolean {
  const chars = [...text];
  if (chars.length < 7 || chars.length > 8) return false;
  if (!PROVINCES.includes(chars[0]!)) return false;
  if (!CITY_LETTERS.includes(chars[1]!)) return false;
  if (chars[1] === 'O' && chars[0] !== '粤') return false;
  const rest = chars.slice(2);
  const last = rest[rest.length - 1]!;
  if (SUFFIXES.includes(last)) {
    if (chars.length !== 7) return false;
    const serial = rest.slice(0, -1);
    return DIGIT_SUFFIXES.includes(last) ? serial.every((c) => DIGITS.includes(c)) : serial.every((c) => BODY.includes(c));
  }
  if (chars.length === 8) return newEnergyShape(chars);
  return rest.every((c) => BODY.includes(c)) && rest.filter((c) => LETTERS.includes(c)).length <= MAX_SERIAL_LETTERS;
}

/**
 * Corrects a reading by the rules of its plate type, using each character's runners-up:
 * - never longer than its type allows: an 8-character read is a new-energy plate only if its shape says so
 *   and the plate is not blue, yellow or black; otherwise (and past 8) the least confident characters after
 *   the province go (辽BG0D0808 → 7);
 * - the city letter is a letter, and O only after 粤 (皖OA2825 → 皖QA2825 when Q is the runner-up);
 * - where a type allows only digits (new-energy serials, the four before 警 学 港 澳 领), a letter becomes
 *   its best digit runner-up (B→8, S→5, G→6, Z→7/2, D/Q→0);
 * - an ordinary serial holds at most two letters: the letters least sure of themselves against a digit
 *   runner-up become that digit.
 * `colour` is the plate's background colour when known.
 */
export function correctPlate(input: readonly PlateChar[], colour?: string | null): PlateChar[] {
  let chars = input.map((c) => ({ ...c, alternatives: [...c.alternatives] }));
  const text = () => chars.map((c) => c.char);
  const suffixed = chars.length >= 7 && SUFFIXES.includes(chars[chars.length - 1]!.char);
  const eightAllowed = !suffixed && newEnergyShape(text().slice(0, 8), true) && !['blue', 'yellow', 'black'].includes(colour ?? '');
  const length = eightAllowed ? 8 : 7;
  while (chars.length > length) {
    // Drop the least confident character after the province (and before a suffix).
    const end = suffixed ? chars.length - 1 : chars.length;
    let worst = 1;
    for (let i = 2; i < end; i++) if (chars[i]!.confidence < chars[worst]!.confidence) worst = i;
    chars = chars.filter((_, i) => i !== worst);
  }
  if (chars.length < 2) return chars;
  // The city letter.
  const city = chars[1]!;
  if (!CITY_LETTERS.includes(city.char) || (city.char === 'O' && chars[0]!.char !== '粤')) {
    swapTo(city, (c) => LETTERS.includes(c));
  }
  const all = text();
  const type = plateType(all.join(''));
  const digitAt = (i: number): boolean => {
    if (type === 'special') return DIGIT_SUFFIXES.includes(all[all.length - 1]!) && i >= 2 && i < all.length - 1;
    if (type === 'new-energy') return NEW_ENERGY.includes(all[2]!) ? i >= 4 : i >= 2 && i <= 6;
    return false;
  };
  for (let i = 2; i < chars.length; i++) if (digitAt(i) && !DIGITS.includes(chars[i]!.char)) swapTo(chars[i]!, (c) => DIGITS.includes(c));
  if (type === 'ordinary' && chars.length === 7) {
    const letters = chars.slice(2).filter((c) => LETTERS.includes(c.char));
    const ranked = letters
      .map((c) => ({ c, digit: bestAlternative(c, (a) => DIGITS.includes(a)) }))
      .filter((x) => x.digit)
      .sort((a, b) => a.c.confidence - a.digit!.confidence - (b.c.confidence - b.digit!.confidence));
    for (let extra = letters.length - MAX_SERIAL_LETTERS, k = 0; extra > 0 && k < ranked.length; extra--, k++) swapTo(ranked[k]!.c, (c) => DIGITS.includes(c));
  }
  return chars;
}

function bestAlternative(c: PlateChar, ok: (ch: string) => boolean): { char: string; confidence: number } | undefined {
  let best: { char: string; confidence: number } | undefined;
  for (const a of c.alternatives) if (ok(a.char) && (!best || a.confidence > best.confidence)) best = a;
  if (!best) for (const alt of CONFUSABLE[c.char] ?? '') if (ok(alt)) return { char: alt, confidence: 0 };
  return best;
}

/** Replaces `c` in place by its best runner-up that `ok` allows; the old character becomes a runner-up. */
function swapTo(c: PlateChar, ok: (ch: string) => boolean): void {
  const best = bestAlternative(c, ok);
  if (!best) return;
  c.alternatives = [{ char: c.char, confidence: c.confidence }, ...c.alternatives.filter((a) => a.char !== best.char)].sort((a, b) => b.confidence - a.confidence);
  c.char = best.char;
  c.confidence = best.confidence;
}
