// What a Chinese licence plate may say: a province character, a letter for the issuing city, then five
// letters or digits (six on green new-energy plates), optionally ending in a special character (警 police,
// 学 learner, 挂 trailer, 港/澳 Hong Kong/Macau, 领 consulate). Letters I and O are never used.

export const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
export const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
/** The city letter may also be O: 粤O is the police and government prefix. */
export const CITY_LETTERS = LETTERS + 'O';
export const DIGITS = '0123456789';
export const SUFFIXES = '警学挂港澳领';
/** Characters a plate may contain after its province. */
export const BODY = LETTERS + DIGITS;

/** Characters that the recogniser confuses on plates; each maps to what it can stand for. */
export const CONFUSABLE: Record<string, string> = {
  '0': 'ODQ', O: '0DQ', D: '0OQ', Q: '0OD',
  '1': 'I', I: '1',
  '8': 'B', B: '8',
  '2': 'Z', Z: '2',
  '5': 'S', S: '5',
  '6': 'G', G: '6',
  川: 'M', M: '川',
};

/** The separator dot and any spaces or punctuation the recogniser puts between groups. */
export function normalisePlate(text: string): string {
  return text.replace(/[·•.\-\s:：_]/g, '').toUpperCase();
}

/** Whether `text` (normalised) has the shape of a plate: 7 characters, 8 for new energy. */
export function isPlate(text: string): boolean {
  const chars = [...text];
  if (chars.length < 7 || chars.length > 8) return false;
  if (!PROVINCES.includes(chars[0]!)) return false;
  if (!CITY_LETTERS.includes(chars[1]!)) return false;
  const rest = chars.slice(2);
  const last = rest[rest.length - 1]!;
  // A special plate ends in its suffix after four characters (沪A·1707领, 贵A·1234警).
  if (SUFFIXES.includes(last)) return chars.length === 7 && rest.slice(0, -1).every((c) => BODY.includes(c));
  if (chars.length === 8) return rest.every((c) => BODY.includes(c));
  return rest.every((c) => BODY.includes(c));
}
