// Turns what an officer types, in English or Chinese or both, into a typed filter: labels, colours (and
// whose clothing), places from the config, a time window in the box's time zone, a plate fragment. Words it
// does not understand are handed back, never silently dropped.
import type { EventKind, PlaceKind, SearchFilter } from '../contract/search.js';
import { CHINESE, type ColourName } from '../vocabulary/colours.js';
import { PROVINCES } from '../plates/plate-rules.js';
import { addDays, isoLocal, localDate, localInstant, type LocalDate } from '../time/local-time.js';
import { PLATED_VEHICLES } from '../vocabulary/labels.js';

export interface Place {
  kind: PlaceKind;
  name: string;
  /** For zones: the camera they belong to. */
  camera?: string;
  /** Everything an officer may call it: its name, aliases. */
  terms: string[];
}

export interface ParseContext {
  now: Date;
  timeZone: string;
  places: Place[];
  /** A bare time ("14:00") means this many minutes either side. */
  windowMinutes: number;
}

export type { EventKind, SearchFilter };

const LABEL_TERMS: Array<[string, string[]]> = [
  ['person', ['person', 'people', 'persons', 'man', 'men', 'woman', 'women', 'pedestrian', 'pedestrians', 'boy', 'boys', 'girl', 'girls', 'child', 'children', 'kid', 'kids', '行人', '人', '男子', '男人', '女子', '女人', '小孩', '孩子']],
  ['car', ['car', 'cars', 'sedan', 'taxi', 'suv', '轿车', '小车', '汽车', '出租车', '私家车']],
  ['motorcycle', ['motorcycle', 'motorcycles', 'motorbike', 'motorbikes', 'scooter', 'scooters', 'moped', 'e-bike', '摩托车', '摩托', '电动车', '电瓶车', '踏板车']],
  ['bicycle', ['bicycle', 'bicycles', 'bike', 'bikes', 'cyclist', '自行车', '单车']],
  ['bus', ['bus', 'buses', 'coach', '公交车', '公交', '大巴', '客车']],
  ['truck', ['truck', 'trucks', 'lorry', 'lorries', 'van', 'vans', 'pickup', '货车', '卡车', '面包车', '皮卡']],
  ['vehicle', ['vehicle', 'vehicles', '车辆', '机动车', '车']],
];

const KIND_TERMS: Array<[EventKind, string[]]> = [
  ['motion', ['motion', 'movement', 'motion event', 'motion events', '移动', '移动侦测', '运动侦测', '动态']],
  ['plate', ['plate', 'plates', 'number plate', 'number plates', 'licence plate', 'licence plates', 'license plate', 'license plates', 'registration', '车牌', '车牌号', '车牌号码', '牌照', '号牌']],
];

const COLOUR_TERMS: Array<[ColourName, string[]]> = [
  ['red', ['red', 'maroon', 'crimson', '红色', '红']],
  ['orange', ['orange', '橙色', '橘色', '橙']],
  ['yellow', ['yellow', 'gold', '黄色', '黄']],
  ['green', ['green', '绿色', '绿']],
  ['cyan', ['cyan', 'teal', 'turquoise', '青色', '青']],
  ['blue', ['blue', 'navy', '蓝色', '蓝']],
  ['purple', ['purple', 'violet', '紫色', '紫']],
  ['pink', ['pink', '粉色', '粉红', '粉']],
  ['brown', ['brown', 'tan', 'beige', '棕色', '咖啡色', '棕', '褐色']],
  ['white', ['white', '白色', '白']],
  ['grey', ['grey', 'gray', 'silver', '灰色', '银色', '灰', '银']],
  ['black', ['black', '黑色', '黑']],
];
const UPPER_WORDS = ['shirt', 'shirts', 'jacket', 'coat', 'top', 'hoodie', 'sweater', 't-shirt', 'tshirt', 'jumper', '上衣', '衣服', '外套', '夹克', 'T恤', '衬衫'];
const LOWER_WORDS = ['trousers', 'pants', 'jeans', 'shorts', 'skirt', '裤子', '裤', '裙子', '短裤', '牛仔裤'];
const WEARING = ['in', 'wearing', 'dressed', '穿', '穿着', '身穿'];
// Words that carry no filter: said, and understood, but nothing to search by.
const STOP = ['at', 'near', 'by', 'on', 'the', 'a', 'an', 'of', 'with', 'and', 'around', 'about', 'at the', 'in the', 'going', 'walking', 'riding', 'driving', 'parked', 'seen', 'show', 'find', 'me', 'all',
  '在', '的', '附近', '和', '与', '一个', '一辆', '有', '找', '查', '看到', '骑', '开', '停', '左右', '大约', '门口', '旁边', '里'];

interface Term {
  text: string;
  apply: (f: Draft, ctx: Scan) => void;
}

interface Draft extends SearchFilter {
  date?: LocalDate;
  /** Minutes since midnight, [from, to). */
  period?: [number, number];
  clock?: [number, number];
  /** The clock time gave no am/pm or period and could be either (两点半, 2:30): the latest past one is meant. */
  ambiguous?: boolean;
  relative?: number;
}

interface Scan {
  pendingWearing: boolean;
  lastColour: number | undefined;
}

const CN_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** 两 → 2, 十二 → 12, 二十三 → 23, 三十 → 30, or an Arabic number. */
export function chineseNumber(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  if (s === '十') return 10;
  const m = /^([零〇一二两三四五六七八九])?(十)?([零〇一二两三四五六七八九])?$/.exec(s);
  if (!m || (!m[1] && !m[2])) return undefined;
  if (!m[2]) return m[3] ? undefined : CN_DIGITS[m[1]!];
  return (m[1] ? CN_DIGITS[m[1]]! : 1) * 10 + (m[3] ? CN_DIGITS[m[3]]! : 0);
}

const NUM = '(\\d{1,2}|[零〇一二两三四五六七八九十]{1,3})';
const NUM_NC = '(?:\\d{1,2}|[零〇一二两三四五六七八九十]{1,3})';
/** A clock time, no capture groups: 14:00, 2pm, 2:30 pm, 14点, 两点半, 3点15分. */
const CLOCK = `(?:${NUM_NC}点(?:半|${NUM_NC}分?)?|\\d{1,2}(?::\\d{2})?\\s*(?:am|pm)?)`;
const PERIODS: Array<[RegExp, [number, number]]> = [
  [/^(this morning|morning|早上|上午|早晨)/, [6 * 60, 12 * 60]],
  [/^(noon|midday|中午)/, [11 * 60, 13 * 60]],
  [/^(this afternoon|afternoon|下午)/, [12 * 60, 18 * 60]],
  [/^(this evening|evening|tonight|傍晚|晚上|今晚)/, [18 * 60, 24 * 60]],
  [/^(last night|night|夜里|夜间|半夜)/, [20 * 60, 30 * 60]],
  [/^(early morning|凌晨)/, [0, 6 * 60]],
];

export function parseQuery(text: string, ctx: ParseContext): SearchFilter {
  const draft: Draft = { kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [] };
  const scan: Scan = { pendingWearing: false, lastColour: undefined };
  const terms = buildTerms(ctx.places);
  // Full-width to half-width, Chinese punctuation to spaces, lower case for English.
  let s = text.normalize('NFKC').replace(/[，。、；！？,;!?()（）"“”'‘’]/g, ' ').toLowerCase().trim();
  const today = localDate(ctx.now, ctx.timeZone);
  while (s.length > 0) {
    if (/^\s/.test(s)) {
      s = s.trimStart();
      continue;
    }
    const time = matchTime(s, draft, today);
    if (time) {
      s = s.slice(time);
      continue;
    }
    const plate = matchPlate(s);
    if (plate) {
      draft.plate = plate.pattern;
      s = s.slice(plate.length);
      continue;
    }
    const term = longestTerm(s, terms);
    if (term) {
      term.apply(draft, scan);
      s = s.slice(term.text.length);
      continue;
    }
    // Not understood: one English word, or one Chinese character.
    const word = /^[a-z0-9'_-]+/.exec(s)?.[0] ?? [...s][0]!;
    draft.unknown.push(word);
    s = s.slice(word.length);
  }
  if (draft.labels.includes('vehicle')) draft.labels = [...new Set([...draft.labels.filter((l) => l !== 'vehicle'), ...PLATED_VEHICLES])];
  // "plate 贵F12345": the text already asks for plates, on whatever event carries the reading.
  if (draft.plate) draft.kinds = draft.kinds.filter((k) => k !== 'plate');
  draft.time = resolveTime(draft, today, ctx);
  return { kinds: draft.kinds, labels: draft.labels, colours: draft.colours, places: draft.places, time: draft.time, plate: draft.plate, unknown: mergeUnknown(draft.unknown) };
}

/** Consecutive unknown Chinese characters read back as one word. */
function mergeUnknown(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const last = out[out.length - 1];
    if (last && /^\p{Script=Han}+$/u.test(w) && /^\p{Script=Han}+$/u.test(last)) out[out.length - 1] = last + w;
    else out.push(w);
  }
  return out;
}

function buildTerms(places: Place[]): Term[] {
  const terms: Term[] = [];
  const add = (text: string, apply: Term['apply']) => terms.push({ text: text.toLowerCase(), apply });
  for (const [label, words] of LABEL_TERMS) for (const w of words) add(w, (f) => void (f.labels.includes(label) || f.labels.push(label)));
  for (const [kind, words] of KIND_TERMS) for (const w of words) add(w, (f) => void (f.kinds.includes(kind) || f.kinds.push(kind)));
  for (const [colour, words] of COLOUR_TERMS) {
    for (const w of [...words, CHINESE[colour]]) {
      add(w, (f, scan) => {
        f.colours.push({ colour, part: scan.pendingWearing ? 'upper' : 'any' });
        scan.lastColour = f.colours.length - 1;
        scan.pendingWearing = false;
      });
    }
  }
  const clothing = (part: 'upper' | 'lower') => (f: Draft, scan: Scan) => {
    const c = scan.lastColour === undefined ? undefined : f.colours[scan.lastColour];
    if (c) c.part = part;
    if (!f.labels.includes('person')) f.labels.push('person');
    scan.lastColour = undefined;
  };
  for (const w of UPPER_WORDS) add(w, clothing('upper'));
  for (const w of LOWER_WORDS) add(w, clothing('lower'));
  for (const w of WEARING) add(w, (_f, scan) => void (scan.pendingWearing = true));
  for (const w of STOP) add(w, () => {});
  for (const p of places) {
    for (const t of p.terms) {
      add(t, (f) => {
        if (!f.places.some((x) => x.kind === p.kind && x.name === p.name)) f.places.push({ kind: p.kind, name: p.name, ...(p.camera ? { camera: p.camera } : {}) });
      });
    }
  }
  return terms.sort((a, b) => b.text.length - a.text.length);
}

function longestTerm(s: string, terms: Term[]): Term | undefined {
  for (const t of terms) {
    if (!s.startsWith(t.text)) continue;
    // English words must end at a word boundary ("tan" is not the start of "tank").
    if (/[a-z0-9]$/.test(t.text) && /^[a-z0-9]/.test(s.slice(t.text.length))) continue;
    return t;
  }
  return undefined;
}

const PLATE_CHARS = '[a-z0-9*?]';

function matchPlate(s: string): { pattern: string; length: number } | undefined {
  // With a province: 贵f12345, 贵f·123, 贵f*; or Latin only with at least one digit and 3+ characters: f12*45, 12345.
  const withProvince = new RegExp(`^[${PROVINCES}](?:\\s?[·.\\s]?\\s?${PLATE_CHARS}){1,7}`).exec(s);
  const m = withProvince ?? new RegExp(`^${PLATE_CHARS}{3,8}(?![a-z])`).exec(s);
  if (!m) return undefined;
  const raw = m[0];
  if (!withProvince && (!/\d/.test(raw) || !/^[a-z0-9]*[*?]?[a-z0-9*?]*$/.test(raw) || /^\d{1,2}$/.test(raw))) return undefined;
  const pattern = raw.replace(/[·.\s]/g, '').toUpperCase();
  return { pattern, length: raw.length };
}

/** Times, dates, periods and spans; returns how many characters it used, or 0. */
function matchTime(s: string, f: Draft, today: LocalDate): number {
  let m: RegExpExecArray | null;
  // Relative spans: last 2 hours, past 30 minutes, 最近两小时, 最近30分钟.
  if ((m = /^(?:last|past)\s+(\d+|an?|one|two|three)\s*(hours?|hrs?|minutes?|mins?)\b/.exec(s))) {
    const n = m[1] === 'a' || m[1] === 'an' || m[1] === 'one' ? 1 : m[1] === 'two' ? 2 : m[1] === 'three' ? 3 : Number(m[1]);
    f.relative = n * (m[2]!.startsWith('h') ? 60 : 1);
    return m[0].length;
  }
  if ((m = new RegExp(`^最近${NUM}\\s*(个)?(小时|钟头|分钟)`).exec(s))) {
    f.relative = chineseNumber(m[1]!)! * (m[3] === '分钟' ? 1 : 60);
    return m[0].length;
  }
  // Dates: 2026-09-12, 9月12日 / 9月12号, yesterday, today, 昨天, 前天, 今天.
  if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})/.exec(s))) {
    f.date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
    return m[0].length;
  }
  if ((m = new RegExp(`^${NUM}月${NUM}[日号]?`).exec(s))) {
    const month = chineseNumber(m[1]!);
    const day = chineseNumber(m[2]!);
    if (month && day && month <= 12 && day <= 31) {
      // A month later than this one means last year's.
      f.date = { year: month > today.month ? today.year - 1 : today.year, month, day };
      return m[0].length;
    }
  }
  if ((m = /^(yesterday|昨天|昨日|前天|today|今天|今日)/.exec(s))) {
    const back = m[1] === '前天' ? 2 : /yesterday|昨/.test(m[1]!) ? 1 : 0;
    f.date = addDays(today, -back);
    return m[0].length;
  }
  // Spans of clock times: between 13:00 and 15:00, 13:00-15:00, from 1pm to 3pm, 13点到15点.
  if ((m = new RegExp(`^(?:between\\s+|from\\s+)?(${CLOCK})\\s*(?:and|to|until|till|-|–|~|到|至)\\s*(${CLOCK})`).exec(s))) {
    const a = clockMinutes(m[1]!, f.period);
    const b = clockMinutes(m[2]!, f.period);
    if (a !== undefined && b !== undefined) {
      f.clock = [a, b];
      return m[0].length;
    }
  }
  // Periods (may be followed by a clock time: 下午两点, yesterday evening).
  for (const [re, range] of PERIODS) {
    if ((m = re.exec(s))) {
      f.period = range;
      if (m[1] === 'last night') f.date = addDays(f.date ?? today, -1);
      return m[0].length;
    }
  }
  // A single clock time: 14:00, 2pm, 2:30 pm, 14点, 两点半, 3点15分.
  if ((m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)(?![a-z])/.exec(s)) || (m = /^(\d{1,2}):(\d{2})(?!\d)/.exec(s))) {
    const t = clockMinutes(m[0], f.period);
    if (t !== undefined) {
      f.clock = [t, t];
      // "2:30" (one digit, no am/pm, no period) is ambiguous; "02:30" and "14:30" are not.
      f.ambiguous = !m[3] && !f.period && /^\d:/.test(m[0]);
      return m[0].length;
    }
  }
  if ((m = new RegExp(`^${NUM}点(半|${NUM}分?|钟)?`).exec(s))) {
    const t = clockMinutes(m[0], f.period);
    if (t !== undefined) {
      f.clock = [t, t];
      f.ambiguous = !f.period && t >= 60 && t < 12 * 60;
      return m[0].length;
    }
  }
  return 0;
}

/** Minutes since midnight of a clock expression, adjusted by a period said before it (下午两点 = 14:00). */
function clockMinutes(expr: string, period: [number, number] | undefined): number | undefined {
  let m: RegExpExecArray | null;
  let hour: number | undefined;
  let minute = 0;
  let meridiem: 'am' | 'pm' | undefined;
  if ((m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(expr.trim()))) {
    hour = Number(m[1]);
    minute = m[2] ? Number(m[2]) : 0;
    if (m[3]) meridiem = m[3].startsWith('p') ? 'pm' : 'am';
  } else if ((m = new RegExp(`^${NUM}点(半|${NUM}分?|钟)?$`).exec(expr.trim()))) {
    hour = chineseNumber(m[1]!);
    if (m[2] === '半') minute = 30;
    else if (m[3]) minute = chineseNumber(m[3]) ?? 0;
  }
  if (hour === undefined || hour > 24 || minute > 59) return undefined;
  if (meridiem === 'pm' && hour < 12) hour += 12;
  if (meridiem === 'am' && hour === 12) hour = 0;
  // After "afternoon"/"evening"/下午/晚上, 2 o'clock is 14:00.
  if (!meridiem && period && period[0] >= 12 * 60 && hour < 12) hour += 12;
  return hour * 60 + minute;
}

function resolveTime(f: Draft, today: LocalDate, ctx: ParseContext): SearchFilter['time'] {
  const tz = ctx.timeZone;
  const span = (date: LocalDate, from: number, to: number) => ({ from: isoLocal(localInstant(date, from, tz), tz), to: isoLocal(localInstant(date, to, tz), tz) });
  if (f.relative !== undefined) {
    return { from: isoLocal(new Date(ctx.now.getTime() - f.relative * 60000), tz), to: isoLocal(ctx.now, tz) };
  }
  // A witness speaks of the past: a time without a date is its latest occurrence that has begun ("2pm" said
  // at 01:00 is yesterday's, "morning" said at 01:00 yesterday morning). A date said outright is kept.
  const latest = (starts: number[]): { date: LocalDate; minutes: number } => {
    if (f.date) return { date: f.date, minutes: starts[0]! };
    const now = ctx.now.getTime();
    let best: { date: LocalDate; minutes: number; at: number } | undefined;
    for (const back of [0, 1, 2]) {
      const date = addDays(today, -back);
      for (const minutes of starts) {
        const at = localInstant(date, minutes, tz).getTime();
        if (at <= now && (!best || at > best.at)) best = { date, minutes, at };
      }
    }
    return best ?? { date: today, minutes: starts[0]! };
  };
  if (f.clock) {
    const [a, b] = f.clock;
    if (a === b) {
      // Said without am/pm or a period, "two thirty" may be either half of the day.
      const { date, minutes } = latest(f.ambiguous ? [a, a + 12 * 60] : [a]);
      return { ...span(date, minutes - ctx.windowMinutes, minutes + ctx.windowMinutes), around: isoLocal(localInstant(date, minutes, tz), tz) };
    }
    const { date } = latest([a]);
    return span(date, a, b > a ? b : b + 24 * 60);
  }
  if (f.period) {
    const { date } = latest([f.period[0]]);
    return span(date, f.period[0], f.period[1]);
  }
  if (f.date) return span(f.date, 0, 24 * 60);
  return null;
}
