// What officers type, and the filter vigil must make of it. "now" is Saturday 2026-11-28 17:30 in Guiyang
// (Asia/Shanghai, UTC+8); a bare time means ±30 minutes.
import { describe, expect, it } from 'vitest';
import { chineseNumber, parseQuery, type Place } from '../../src/search/query-parser.js';

const PLACES: Place[] = [
  { kind: 'location', name: 'market', terms: ['market', '集市', 'bazaar', '市场'] },
  { kind: 'location', name: 'school gate', terms: ['school gate', 'school', '学校', '校门'] },
  { kind: 'location', name: 'north checkpoint', terms: ['north checkpoint', 'checkpoint', '北卡口', '检查站'] },
  { kind: 'camera', name: 'market-east', terms: ['market-east'] },
  { kind: 'zone', name: 'crossing', camera: 'market-east', terms: ['crossing', 'zebra crossing', '斑马线'] },
];
const ctx = { now: new Date('2026-11-28T09:30:00Z'), timeZone: 'Asia/Shanghai', windowMinutes: 30, places: PLACES };

interface Expect {
  kinds?: string[];
  labels?: string[];
  colours?: string[]; // 'red' (any part) or 'upper:red' / 'lower:blue'
  places?: string[];
  time?: [string, string] | null; // 'MM-DD HH:MM' local
  plate?: string | null;
  unknown?: string[];
}

const local = (iso: string) => iso.slice(5, 16).replace('T', ' ');

const CASES: Array<[string, Expect]> = [
  // The two the issue names.
  ['red motorbike at market 14:00', { labels: ['motorcycle'], colours: ['red'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['集市 红色摩托车 下午两点', { labels: ['motorcycle'], colours: ['red'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  // English.
  ['person near school yesterday evening', { labels: ['person'], places: ['school gate'], time: ['11-27 18:00', '11-28 00:00'] }],
  ['white van between 13:00 and 15:00', { labels: ['truck'], colours: ['white'], time: ['11-28 13:00', '11-28 15:00'] }],
  ['man in a black coat', { labels: ['person'], colours: ['upper:black'] }],
  ['woman in red', { labels: ['person'], colours: ['upper:red'] }],
  ['red shirt', { labels: ['person'], colours: ['upper:red'] }],
  ['guy wearing a green jacket and blue jeans', { labels: ['person'], colours: ['upper:green', 'lower:blue'], unknown: ['guy'] }],
  ['silver car', { labels: ['car'], colours: ['grey'] }],
  ['gray sedan', { labels: ['car'], colours: ['grey'] }],
  ['yellow taxi at the checkpoint', { labels: ['car'], colours: ['yellow'], places: ['north checkpoint'] }],
  ['bus 2pm', { labels: ['bus'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['bicycle 2:30 pm', { labels: ['bicycle'], time: ['11-28 14:00', '11-28 15:00'] }],
  ['scooter this morning', { labels: ['motorcycle'], time: ['11-28 06:00', '11-28 12:00'] }],
  ['lorry this afternoon', { labels: ['truck'], time: ['11-28 12:00', '11-28 18:00'] }],
  // At 17:30 this evening has not begun: a witness means the last one.
  ['people tonight', { labels: ['person'], time: ['11-27 18:00', '11-28 00:00'] }],
  ['cars last 2 hours', { labels: ['car'], time: ['11-28 15:30', '11-28 17:30'] }],
  ['any vehicle in the past 30 minutes', { labels: ['car', 'motorcycle', 'bus', 'truck'], time: ['11-28 17:00', '11-28 17:30'], unknown: ['any'] }],
  ['truck 2026-09-12', { labels: ['truck'], time: ['09-12 00:00', '09-13 00:00'] }],
  ['2026-09-12 14:00 car', { labels: ['car'], time: ['09-12 13:30', '09-12 14:30'] }],
  ['from 1pm to 3pm market', { places: ['market'], time: ['11-28 13:00', '11-28 15:00'] }],
  ['13:00-15:00 crossing', { places: ['crossing'], time: ['11-28 13:00', '11-28 15:00'] }],
  ['blue bike at market-east', { labels: ['bicycle'], colours: ['blue'], places: ['market-east'] }],
  ['motorcycle yesterday', { labels: ['motorcycle'], time: ['11-27 00:00', '11-28 00:00'] }],
  ['pedestrian on the zebra crossing', { labels: ['person'], places: ['crossing'] }],
  ['2:30 car', { labels: ['car'], time: ['11-28 14:00', '11-28 15:00'] }],
  ['02:30 car', { labels: ['car'], time: ['11-28 02:00', '11-28 03:00'] }],
  ['last night motorbike', { labels: ['motorcycle'], time: ['11-27 20:00', '11-28 06:00'] }],
  ['orange truck at noon', { labels: ['truck'], colours: ['orange'], time: ['11-28 11:00', '11-28 13:00'] }],
  ['purple', { colours: ['purple'] }],
  ['brown dog', { colours: ['brown'], unknown: ['dog'] }],
  ['kids at school gate', { labels: ['person'], places: ['school gate'] }],
  ['RED MOTORBIKE AT MARKET', { labels: ['motorcycle'], colours: ['red'], places: ['market'] }],
  ['red   motorbike,market;14:00!!', { labels: ['motorcycle'], colours: ['red'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['tank', { unknown: ['tank'] }],
  ['', {}],
  ['   ', {}],
  ['F12*45', { plate: 'F12*45' }],
  ['12345', { plate: '12345' }],
  ['plate 贵F12345', { plate: '贵F12345' }],
  ['car with plate f12*45 at checkpoint', { labels: ['car'], plate: 'F12*45', places: ['north checkpoint'] }],
  // Chinese.
  ['贵F·8', { plate: '贵F8' }],
  ['贵F·123', { plate: '贵F123' }],
  ['贵F12345', { plate: '贵F12345' }],
  ['贵AD12345 昨天', { plate: '贵AD12345', time: ['11-27 00:00', '11-28 00:00'] }],
  ['穿红衣服的人', { labels: ['person'], colours: ['upper:red'] }],
  ['穿黑色外套的男子', { labels: ['person'], colours: ['upper:black'] }],
  ['蓝色裤子 女人', { labels: ['person'], colours: ['lower:blue'] }],
  ['白色轿车', { labels: ['car'], colours: ['white'] }],
  ['银色小车 集市', { labels: ['car'], colours: ['grey'], places: ['market'] }],
  ['黄色货车 北卡口', { labels: ['truck'], colours: ['yellow'], places: ['north checkpoint'] }],
  ['公交车 14点', { labels: ['bus'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['电动车 两点半', { labels: ['motorcycle'], time: ['11-28 14:00', '11-28 15:00'] }],
  ['自行车 上午十点', { labels: ['bicycle'], time: ['11-28 09:30', '11-28 10:30'] }],
  ['行人 晚上八点', { labels: ['person'], time: ['11-27 19:30', '11-27 20:30'] }],
  ['昨天晚上 斑马线 电动车', { labels: ['motorcycle'], places: ['crossing'], time: ['11-27 18:00', '11-28 00:00'] }],
  ['前天 学校门口 行人', { labels: ['person'], places: ['school gate'], time: ['11-26 00:00', '11-27 00:00'] }],
  ['最近两小时 货车', { labels: ['truck'], time: ['11-28 15:30', '11-28 17:30'] }],
  ['最近30分钟 摩托车', { labels: ['motorcycle'], time: ['11-28 17:00', '11-28 17:30'] }],
  ['9月12日 轿车', { labels: ['car'], time: ['09-12 00:00', '09-13 00:00'] }],
  ['九月十二号 集市', { places: ['market'], time: ['09-12 00:00', '09-13 00:00'] }],
  ['13点到15点 集市', { places: ['market'], time: ['11-28 13:00', '11-28 15:00'] }],
  ['下午 红色 摩托', { labels: ['motorcycle'], colours: ['red'], time: ['11-28 12:00', '11-28 18:00'] }],
  ['今天上午 校门 自行车', { labels: ['bicycle'], places: ['school gate'], time: ['11-28 06:00', '11-28 12:00'] }],
  ['凌晨 车辆', { labels: ['car', 'motorcycle', 'bus', 'truck'], time: ['11-28 00:00', '11-28 06:00'] }],
  ['中午 市场 人', { labels: ['person'], places: ['market'], time: ['11-28 11:00', '11-28 13:00'] }],
  ['绿色 大巴', { labels: ['bus'], colours: ['green'] }],
  ['粉色 电瓶车', { labels: ['motorcycle'], colours: ['pink'] }],
  ['灰色 面包车 检查站', { labels: ['truck'], colours: ['grey'], places: ['north checkpoint'] }],
  ['紫色衬衫', { labels: ['person'], colours: ['upper:purple'] }],
  ['红 车', { labels: ['car', 'motorcycle', 'bus', 'truck'], colours: ['red'] }],
  ['集市，红色摩托车，下午两点', { labels: ['motorcycle'], colours: ['red'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['３点１５分 集市', { places: ['market'], time: ['11-28 14:45', '11-28 15:45'] }],
  ['小偷', { unknown: ['小偷'] }],
  ['红色摩托车 小偷 集市', { labels: ['motorcycle'], colours: ['red'], places: ['market'], unknown: ['小偷'] }],
  ['穿白衣服骑电动车的女人', { labels: ['person', 'motorcycle'], colours: ['upper:white'] }],
  ['川A12345', { plate: '川A12345' }],
  ['粤O*', { plate: '粤O*' }],
  // Mixed languages and ugly input.
  ['market 红色 motorbike 2pm', { labels: ['motorcycle'], colours: ['red'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['集市 red car', { labels: ['car'], colours: ['red'], places: ['market'] }],
  ['bazaar blue truck', { labels: ['truck'], colours: ['blue'], places: ['market'] }],
  ["'; DROP TABLE events; --", { unknown: ['drop', 'table', 'events', '--'] }],
  // Kinds of event: plate readings, motion.
  ['车牌', { kinds: ['plate'] }],
  ['集市 车牌 贵F', { places: ['market'], plate: '贵F' }],
  ['plate at market', { kinds: ['plate'], places: ['market'] }],
  ['licence plates yesterday', { kinds: ['plate'], time: ['11-27 00:00', '11-28 00:00'] }],
  ['motion', { kinds: ['motion'] }],
  ['motion at market 14:00', { kinds: ['motion'], places: ['market'], time: ['11-28 13:30', '11-28 14:30'] }],
  ['移动', { kinds: ['motion'] }],
  ['集市 移动侦测', { kinds: ['motion'], places: ['market'] }],
  ['车辆 车牌号', { kinds: ['plate'], labels: ['car', 'motorcycle', 'bus', 'truck'] }],
  ['<script>alert(1)</script>', { unknown: ['<', 'script', '>', 'alert', '1', '<', '/', 'script', '>'] }],
];

describe('parseQuery', () => {
  it(`understands the ${CASES.length} officers' queries in the table`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
    const wrong: unknown[] = [];
    for (const [query, want] of CASES) {
      const f = parseQuery(query, ctx);
      const got: Expect = {
        kinds: f.kinds,
        labels: f.labels,
        colours: f.colours.map((c) => (c.part === 'any' ? c.colour : `${c.part}:${c.colour}`)),
        places: f.places.map((p) => p.name),
        time: f.time ? [local(f.time.from), local(f.time.to)] : null,
        plate: f.plate,
        unknown: f.unknown,
      };
      const expected: Expect = { kinds: [], labels: [], colours: [], places: [], time: null, plate: null, unknown: [], ...want };
      if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push({ query, got, expected });
    }
    expect(wrong).toEqual([]);
  });

  it('writes times as ISO 8601 local times in the configured zone', () => {
    expect(parseQuery('14:00', ctx).time).toEqual({ from: '2026-11-28T13:30:00+08:00', to: '2026-11-28T14:30:00+08:00', around: '2026-11-28T14:00:00+08:00' });
    expect(parseQuery('yesterday', ctx).time!.around).toBeUndefined();
    // 09:30 in London: 14:00 today is still to come, so yesterday's.
    const london = parseQuery('14:00', { ...ctx, timeZone: 'Europe/London' }).time!;
    expect(london.from).toBe('2026-11-27T13:30:00+00:00');
    // Across a DST change: 2026-03-29 01:00 in London is the switch to BST.
    expect(parseQuery('2026-03-29 09:00', { ...ctx, timeZone: 'Europe/London' }).time!.from).toBe('2026-03-29T08:30:00+01:00');
  });

  // The same words said at different hours of one day (Asia/Shanghai): always the latest past occurrence.
  const AT_HOURS: Array<[string, string, string, string | null]> = [
    // [said at (local), query, window from, window to] as 'MM-DD HH:MM'; around is checked where it applies.
    ['11-29 01:02', '2pm', '11-28 13:30', '11-28 14:30'],
    ['11-29 01:02', '14:00', '11-28 13:30', '11-28 14:30'],
    ['11-29 01:02', '下午两点', '11-28 13:30', '11-28 14:30'],
    ['11-29 01:02', '两点', '11-28 13:30', '11-28 14:30'],
    ['11-29 01:02', '2:30', '11-28 14:00', '11-28 15:00'],
    ['11-29 01:02', 'this morning', '11-28 06:00', '11-28 12:00'],
    ['11-29 01:02', '上午', '11-28 06:00', '11-28 12:00'],
    ['11-29 01:02', 'last night', '11-28 20:00', '11-29 06:00'],
    ['11-29 01:02', '凌晨', '11-29 00:00', '11-29 06:00'],
    ['11-29 01:02', 'between 13:00 and 15:00', '11-28 13:00', '11-28 15:00'],
    ['11-29 01:02', '13点到15点', '11-28 13:00', '11-28 15:00'],
    ['11-29 02:40', '两点', '11-29 01:30', '11-29 02:30'],
    ['11-29 02:40', '2:30', '11-29 02:00', '11-29 03:00'],
    ['11-29 09:15', '两点半', '11-29 02:00', '11-29 03:00'],
    ['11-29 09:15', '9am', '11-29 08:30', '11-29 09:30'],
    ['11-29 09:15', '10am', '11-28 09:30', '11-28 10:30'],
    ['11-29 09:15', 'this morning', '11-29 06:00', '11-29 12:00'],
    ['11-29 09:15', '上午十点', '11-28 09:30', '11-28 10:30'],
    ['11-29 09:15', 'afternoon', '11-28 12:00', '11-28 18:00'],
    ['11-29 14:05', '14:00', '11-29 13:30', '11-29 14:30'],
    ['11-29 14:05', '2pm', '11-29 13:30', '11-29 14:30'],
    ['11-29 14:05', '下午两点', '11-29 13:30', '11-29 14:30'],
    ['11-29 14:05', '两点', '11-29 13:30', '11-29 14:30'],
    ['11-29 14:05', '下午', '11-29 12:00', '11-29 18:00'],
    ['11-29 13:55', '14:00', '11-28 13:30', '11-28 14:30'],
    ['11-29 23:50', '晚上八点', '11-29 19:30', '11-29 20:30'],
    ['11-29 23:50', 'tonight', '11-29 18:00', '11-30 00:00'],
    // A date said outright is kept, even when the clock time on it is still to come today.
    ['11-29 01:02', 'today 14:00', '11-29 13:30', '11-29 14:30'],
    ['11-29 01:02', '昨天下午两点', '11-28 13:30', '11-28 14:30'],
    ['11-29 01:02', '9月12日 14:00', '09-12 13:30', '09-12 14:30'],
  ];
  it.each(AT_HOURS)('said at %s, "%s" means %s to %s', (at, query, from, to) => {
    const now = new Date(`2026-${at.replace(' ', 'T')}:00+08:00`);
    const time = parseQuery(query, { ...ctx, now }).time!;
    expect(time, query).not.toBeNull();
    expect([local(time.from), local(time.to)]).toEqual([from, to]);
    if (/today|昨天|月/.test(query)) return;
    expect(Date.parse(time.around ?? time.from)).toBeLessThanOrEqual(now.getTime());
  });

  it('reads Chinese numbers', () => {
    expect([chineseNumber('两'), chineseNumber('十'), chineseNumber('十二'), chineseNumber('二十三'), chineseNumber('三十'), chineseNumber('15')]).toEqual([2, 10, 12, 23, 30, 15]);
    expect(chineseNumber('百')).toBeUndefined();
  });
});
