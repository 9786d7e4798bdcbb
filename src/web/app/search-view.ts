// Search: the officer's words, what vigil understood of them as removable chips, quick filters, and the
// matching events as a grid of snapshots in the order the API ranks them.
import { api, snapshotUrl, type BoxInfo, type ColourName, type CameraRow, type EventJson, type SearchFilter, type SearchHit, type SearchResult, type Suggestion } from './api.js';
import { h, replace } from './dom.js';
import { clock, day, fromLocalInput, minutesSince, shortClock, toLocalInput } from './format.js';
import { colourName, colourSwatch, labelName, placeName, t } from './i18n.js';

export interface SearchState {
  q: string;
  /** Present once the officer edited the understood filter (removed a chip, used a quick filter). */
  filter?: SearchFilter;
}

export function searchHash(state: SearchState): string {
  const params = new URLSearchParams();
  if (state.q) params.set('q', state.q);
  if (state.filter) params.set('f', JSON.stringify(state.filter));
  const s = params.toString();
  return `#/search${s ? `?${s}` : ''}`;
}

export function parseSearchHash(query: string): SearchState {
  const params = new URLSearchParams(query);
  const state: SearchState = { q: params.get('q') ?? '' };
  const f = params.get('f');
  if (f) {
    try {
      state.filter = JSON.parse(f) as SearchFilter;
    } catch {
      // A mangled link: fall back to the words.
    }
  }
  return state;
}

interface Chip { group: string; text: string; without: (f: SearchFilter) => SearchFilter; warn?: boolean }

function chipsOf(filter: SearchFilter): Chip[] {
  const chips: Chip[] = [];
  (filter.kinds ?? []).forEach((kind, i) =>
    chips.push({ group: t('chipKind'), text: t(`kind_${kind}`), without: (f) => ({ ...f, kinds: (f.kinds ?? []).filter((_, j) => j !== i) }) }));
  filter.labels.forEach((label, i) =>
    chips.push({ group: t('chipLabel'), text: labelName(label), without: (f) => ({ ...f, labels: f.labels.filter((_, j) => j !== i) }) }));
  filter.colours.forEach((c, i) =>
    chips.push({
      group: c.part === 'upper' ? t('chipUpper') : c.part === 'lower' ? t('chipLower') : t('chipColour'),
      text: colourName(c.colour),
      without: (f) => ({ ...f, colours: f.colours.filter((_, j) => j !== i) }),
    }));
  filter.places.forEach((p, i) =>
    chips.push({
      group: p.kind === 'camera' ? t('chipCamera') : p.kind === 'zone' ? t('chipZone') : t('chipPlace'),
      text: p.kind === 'zone' && p.camera ? `${placeName(p.name)} (${p.camera})` : p.kind === 'camera' ? p.name : placeName(p.name),
      without: (f) => ({ ...f, places: f.places.filter((_, j) => j !== i) }),
    }));
  if (filter.time) {
    const { from, to, around } = filter.time;
    const text = around
      ? `${day(around)} ${t('chipAround', { time: shortClock(around) })}`
      : `${day(from)} ${shortClock(from)} – ${day(to) === day(from) ? '' : `${day(to)} `}${shortClock(to)}`;
    chips.push({ group: t('chipTime'), text, without: (f) => ({ ...f, time: null }) });
  }
  if (filter.plate) chips.push({ group: t('chipPlate'), text: filter.plate, without: (f) => ({ ...f, plate: null }) });
  filter.unknown.forEach((word, i) =>
    chips.push({ group: t('notUnderstood'), text: word, warn: true, without: (f) => ({ ...f, unknown: f.unknown.filter((_, j) => j !== i) }) }));
  return chips;
}

export function renderSearch(root: HTMLElement, state: SearchState, info: BoxInfo, go: (hash: string) => void): void {
  const input = h('input', {
    id: 'q', name: 'q', type: 'search', value: state.q, autocomplete: 'off', spellcheck: 'false',
    placeholder: t('searchPlaceholder'), 'aria-describedby': 'q-help',
  });
  input.value = state.q;
  const form = h('form', { class: 'search-form', role: 'search', onsubmit: (e: Event) => {
    e.preventDefault();
    go(searchHash({ q: input.value.trim() }));
  } },
  h('label', { for: 'q', class: 'search-label' }, t('searchLabel')),
  h('div', { class: 'search-row' }, input, h('button', { type: 'submit', class: 'primary' }, t('searchButton'))),
  h('p', { id: 'q-help', class: 'help' }, t('searchHelp')));

  const chipsBox = h('div', { class: 'chips', 'aria-live': 'polite' });
  // Open on a desk PC; folded on a phone, where the results matter more than the controls.
  const quickFields = h('div', { class: 'quick-fields' });
  const quick = h('details', { class: 'quick', open: window.matchMedia('(min-width: 761px)').matches }, h('summary', {}, t('quickFilters')), quickFields);
  const summary = h('p', { class: 'summary', role: 'status', 'aria-live': 'polite' }, t('loading'));
  const grid = h('ul', { class: 'grid', 'aria-label': t('navSearch') });
  const more = h('button', { type: 'button', class: 'secondary more', hidden: true }, t('loadMore'));
  const help = h('div', { class: 'search-help', 'aria-live': 'polite' });
  replace(root, h('section', { class: 'search' }, form, chipsBox, quick, summary, help, grid, more));
  if (!state.q && !state.filter) input.focus();

  let filter: SearchFilter | undefined = state.filter;
  let next: string | undefined;
  let shown = 0;
  let loading = false;
  const ids: number[] = [];

  const edit = (change: (f: SearchFilter) => SearchFilter) => {
    if (!filter) return;
    go(searchHash({ q: state.q, filter: change(filter) }));
  };

  const drawChips = () => {
    if (!filter) return;
    const chips = chipsOf(filter);
    replace(chipsBox,
      h('span', { class: 'chips-title', id: 'chips-title' }, `${t('understoodAs')}:`),
      chips.length === 0
        ? h('span', { class: 'help' }, t('nothingUnderstood'))
        : h('ul', { class: 'chip-list', 'aria-labelledby': 'chips-title' }, chips.map((c) =>
          h('li', { class: c.warn ? 'chip warn' : 'chip' },
            h('span', { class: 'chip-group' }, c.group),
            h('span', { class: 'chip-text' }, c.text),
            h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('removeFilter', { what: `${c.group} ${c.text}` }), title: t('removeFilter', { what: `${c.group} ${c.text}` }),
              onclick: () => edit(c.without) }, '×')))));
  };

  const select = (id: string, label: string, anyText: string, options: Array<[string, string]>, value: string, onchange: (v: string) => void) =>
    h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('select', { id, onchange: (e: Event) => onchange((e.target as HTMLSelectElement).value) },
        h('option', { value: '' }, anyText),
        options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));

  const drawQuick = () => {
    if (!filter) return;
    const f = filter;
    const cameras = f.places.filter((p) => p.kind === 'camera');
    // Text, not datetime-local: the browser's picker follows the PC's locale (mm/dd/yyyy, 12-hour) while
    // every other time on the page is the box's 24-hour clock.
    const timeInput = (id: string, iso: string | undefined) => h('input', {
      id, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: 'YYYY-MM-DD HH:MM',
      pattern: '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}', 'aria-describedby': 'qf-time-help', value: iso ? toLocalInput(iso) : '',
    });
    const from = timeInput('qf-from', f.time?.from);
    const to = timeInput('qf-to', f.time?.to);
    const timeError = h('p', { class: 'form-error', role: 'alert', id: 'qf-time-error' });
    replace(quickFields,
      select('qf-camera', t('chipCamera'), t('anyCamera'), info.cameras.map((c) => [c.name, `${c.name} · ${c.location}${c.box === undefined ? '' : ` · ${t('onBox', { box: c.box })}`}`]), cameras.length === 1 ? cameras[0]!.name : '',
        // Places in a filter are alternatives (either named place matches); picking one camera here means
        // that camera only, so it replaces them.
        (v) => edit((x) => ({ ...x, places: v ? [{ kind: 'camera' as const, name: v }] : x.places.filter((p) => p.kind !== 'camera') }))),
      select('qf-label', t('chipLabel'), t('anyLabel'), info.labels.map((l) => [l, labelName(l)]), f.labels.length === 1 ? f.labels[0]! : '',
        (v) => edit((x) => ({ ...x, labels: v ? [v] : [] }))),
      select('qf-colour', t('chipColour'), t('anyColour'), info.colours.map((c) => [c, colourName(c)]), f.colours.length === 1 ? f.colours[0]!.colour : '',
        (v) => edit((x) => ({ ...x, colours: v ? [{ colour: v as ColourName, part: 'any' }] : [] }))),
      h('div', { class: 'field' }, h('label', { for: 'qf-from' }, t('from')), from),
      h('div', { class: 'field' }, h('label', { for: 'qf-to' }, t('to')), to),
      h('button', { type: 'button', class: 'secondary', onclick: () => {
        if (!from.value.trim() && !to.value.trim()) return edit((x) => ({ ...x, time: null }));
        const fromIso = from.value.trim() ? fromLocalInput(from.value) : new Date(0).toISOString();
        const toIso = to.value.trim() ? fromLocalInput(to.value) : new Date().toISOString();
        if (!fromIso || !toIso) {
          timeError.textContent = t('badTime');
          return;
        }
        edit((x) => ({ ...x, time: { from: fromIso, to: toIso } }));
      } }, t('applyTime')),
      h('p', { class: 'help', id: 'qf-time-help' }, t('timeFormatHelp')),
      timeError);
  };

  const drawSummary = () => {
    const order = filter?.time?.around ? t('sortedClosest', { time: shortClock(filter.time.around) }) : t('sortedNewest');
    summary.textContent = shown === 0 ? t('noResults') : `${next ? t('resultsMore', { n: shown }) : shown === 1 ? t('resultsOne') : t('results', { n: shown })} · ${order}`;
    summary.classList.toggle('empty', shown === 0);
  };

  // Nothing found: what is close, each a click away, and any camera in question that has been up without
  // seeing anything for a long time (an empty answer may be the camera's fault, not the street's).
  const drawHelp = async (suggestions: Suggestion[]) => {
    if (suggestions.length) {
      help.append(h('p', { class: 'help-title' }, t('closeMatches')),
        h('ul', { class: 'suggestions' }, suggestions.map((sg) => h('li', {},
          h('button', { type: 'button', class: 'secondary small', onclick: () => edit(() => sg.filter) },
            t(sg.count >= 100 ? 'suggestionMore' : 'suggestionShow', { n: sg.count, what: chipsOf(sg.filter).filter((c) => !c.warn).map((c) => c.text).join(' · ') || t('nothingUnderstood') }))))));
    }
    const { cameras, now } = await api.cameras().catch(() => ({ cameras: [] as CameraRow[], now: new Date().toISOString() }));
    const asked = filter?.places ?? [];
    const concerned = (c: CameraRow) => asked.length === 0 || asked.some((p) => (p.kind === 'camera' && p.name === c.name) || (p.kind === 'location' && p.name === c.location) || (p.kind === 'zone' && p.camera === c.name));
    for (const c of cameras.filter((x) => x.quiet_since && concerned(x))) {
      help.append(h('p', { class: 'warning', role: 'note' }, t('quietCamera', { camera: c.name, minutes: minutesSince(c.quiet_since!, now) })));
    }
  };

  const load = async () => {
    if (loading) return;
    loading = true;
    more.disabled = true;
    try {
      const result: SearchResult = filter && state.filter ? await api.searchFilter(filter, state.q, next) : await api.searchText(state.q, next);
      if (!filter) {
        filter = result.filter;
      }
      if (shown === 0) {
        drawChips();
        drawQuick();
      }
      for (const e of result.events) grid.append(card(e));
      shown += result.events.length;
      ids.push(...result.events.map((e) => e.id));
      rememberResults(ids, location.hash);
      next = result.next;
      more.hidden = !next;
      drawSummary();
      if (shown === 0) void drawHelp(result.suggestions ?? []);
    } catch (err) {
      summary.textContent = t('searchFailed', { error: (err as Error).message });
      summary.classList.add('error');
    } finally {
      loading = false;
      more.disabled = false;
    }
  };
  more.addEventListener('click', () => void load());
  // Infinite scroll for the mouse, the button for the keyboard: both load the next page.
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && next && !loading) void load();
  }, { rootMargin: '400px' });
  observer.observe(more);
  void load();
}

function card(e: SearchHit): HTMLElement {
  const image = e.snapshots.crop ? 'crop' : e.snapshots.frame ? 'frame' : null;
  const colours = colourReadings(e);
  const plate = e.attributes.plate?.text;
  const title = [labelName(e.label) || t(`kind_${e.kind}`), ...colours.map((c) => colourName(c.colour))].join(' · ');
  const nearPlate = e.near_match?.includes('plate');
  // What of the title line is only near what was asked (ranked below, and said so): another vehicle type the
  // detector confuses with the one asked for, a look-alike colour, the rider's clothing for the vehicle's colour.
  // One badge, each reason a line of its tooltip.
  const nearTitle = ([['label', 'nearMatchLabel'], ['colour', 'nearMatchColour'], ['rider-colour', 'nearMatchRiderColour']] as const)
    .filter(([reason]) => e.near_match?.includes(reason)).map(([, key]) => t(key));
  return h('li', { class: 'card' },
    h('a', { href: `#/event/${e.id}`, class: 'card-link', 'aria-label': `${title}, ${e.camera}${e.box_name === undefined ? '' : ` (${t('onBox', { box: e.box_name })})`}, ${day(e.start)} ${clock(e.start)}${e.sightings > 1 ? `, ${t('sightings', { n: e.sightings })}` : ''}` },
      h('div', { class: 'thumb' }, image
        ? h('img', { src: snapshotUrl(e.id, image), alt: '', loading: 'lazy', decoding: 'async' })
        : h('span', { class: 'no-image' }, t('noImage')),
        e.sightings > 1 ? h('span', { class: 'sightings', title: t('sightingsTitle', { n: e.sightings }) }, t('sightings', { n: e.sightings })) : null),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-time' }, h('strong', {}, clock(e.start)), h('span', {}, day(e.start))),
        h('div', { class: 'card-title' },
          h('span', { class: `kind kind-${e.kind}` }, labelName(e.label) || t(`kind_${e.kind}`)),
          colours.map((c) => h('span', { class: 'colour' }, h('span', { class: 'swatch', style: `background:${colourSwatch(c.colour)}` }),
            `${c.part === 'upper' ? `${t('chipUpper')} ` : c.part === 'lower' ? `${t('chipLower')} ` : ''}${colourName(c.colour)}`)),
          nearTitle.length ? h('span', { class: 'near', title: nearTitle.join('\n') }, t('nearMatch')) : null),
        h('div', { class: 'card-place' }, e.camera, boxTag(e), ` · ${placeName(e.location)}${e.zones.length ? ` · ${e.zones.map(placeName).join(', ')}` : ''}`),
        plate ? h('div', { class: 'plate-line' }, h('span', { class: 'plate' }, formatPlate(plate)),
          nearPlate ? h('span', { class: 'near', title: t('nearMatchPlate') }, t('nearMatch')) : null) : null)));
}

const RESULTS_KEY = 'vigil.results';

/** The last result list, so the event view can step to the previous and next result. */
function rememberResults(ids: number[], hash: string): void {
  try {
    sessionStorage.setItem(RESULTS_KEY, JSON.stringify({ ids, hash }));
  } catch {
    // Storage full or off: the event view simply shows no previous/next.
  }
}

export function rememberedResults(): { ids: number[]; hash: string } | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(RESULTS_KEY) ?? 'null') as { ids?: unknown; hash?: unknown } | null;
    if (saved && Array.isArray(saved.ids) && typeof saved.hash === 'string') return { ids: saved.ids.filter((x): x is number => typeof x === 'number'), hash: saved.hash };
  } catch {
    // Unreadable: as if nothing was remembered.
  }
  return undefined;
}

export function colourReadings(e: EventJson): Array<{ colour: string; part: string }> {
  const out: Array<{ colour: string; part: string }> = [];
  for (const [key, part] of [['colour', 'any'], ['vehicle_colour', 'any'], ['upper_colour', 'upper'], ['lower_colour', 'lower']] as const) {
    const reading = e.attributes[key] as { colour: string } | undefined;
    if (reading?.colour) out.push({ colour: reading.colour, part });
  }
  return out;
}

/** At a station hub: the box the event comes from, small, next to the camera; nothing on a box. */
export function boxTag(e: EventJson): Array<HTMLElement | string> | null {
  return e.box_name === undefined ? null : [' ', h('small', { class: 'box-name muted' }, t('onBox', { box: e.box_name }))];
}

/** 贵F12345 → 贵F·12345, the way plates are written. */
export function formatPlate(text: string): string {
  return text.length >= 7 && /^[\u4e00-\u9fff][A-Z]/.test(text) ? `${text.slice(0, 2)}·${text.slice(2)}` : text;
}
