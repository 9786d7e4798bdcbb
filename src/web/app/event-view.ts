// One event as evidence: the annotated frame with the track's path, the close-up, every recorded field,
// the plate reading character by character, the capture hashes, and the export.
import { api, ApiError, evidenceUrl, snapshotUrl, timelineHash, type EventJson, type PlateChar } from './api.js';
import { clipFigure } from './clip-player.js';
import { h, replace, svg } from './dom.js';
import { dateTime, duration, percent } from './format.js';
import { colourName, colourSwatch, labelName, placeName, t } from './i18n.js';
import { boxTag, colourReadings, formatPlate, rememberedResults } from './search-view.js';

/** How often (ms) and how long an event that just ended, or is going on, is asked for again until its clip is there. */
const CLIP_POLL_MS = 3000;
const CLIP_POLL_FOR_MS = 60_000;
/** An event that ended this recently (ms) may still have its clip being written. */
const CLIP_RECENT_MS = 30_000;
/** The timeline opened from an event shows this much (ms) either side of it. */
const TIMELINE_MARGIN_MS = 2 * 60_000;

export async function renderEvent(root: HTMLElement, id: number, backHash: string, signal: AbortSignal = new AbortController().signal): Promise<void> {
  replace(root, h('p', { class: 'summary', role: 'status' }, t('loading')));
  let e: EventJson;
  try {
    e = await api.event(id);
  } catch (err) {
    const text = err instanceof ApiError && err.status === 404 ? t('eventNotFound', { id }) : t('errorGeneric', { error: (err as Error).message });
    replace(root, h('p', { class: 'summary error', role: 'alert' }, text), h('a', { href: backHash, class: 'back' }, `← ${t('backToResults')}`));
    return;
  }
  const colours = colourReadings(e);
  const plate = e.attributes.plate;
  // A plate event is about the plate: it is the heading, the vehicle's type and colour follow.
  const heading = plate
    ? [formatPlate(plate.text), labelName(e.label), ...colours.map((c) => colourName(c.colour))].filter(Boolean).join(' · ')
    : [labelName(e.label) || t(`kind_${e.kind}`), ...colours.map((c) => colourName(c.colour))].join(' · ');
  const ongoing = e.end === null;
  const video = h('div', { class: 'clip-slot' });
  const timeline = h('p', { class: 'timeline-link', hidden: true });

  replace(root, h('article', { class: 'event', 'aria-labelledby': 'event-title' },
    h('div', { class: 'event-nav' }, h('a', { href: backHash, class: 'back' }, `← ${t('backToResults')}`), stepper(e.id)),
    h('header', { class: 'event-head' },
      h('h1', { id: 'event-title' }, heading),
      h('p', { class: 'event-sub' }, `${t('eventTitle', { id: e.id })} · ${e.camera}`, boxTag(e), ` · ${placeName(e.location)} · ${dateTime(e.start)}`)),
    h('div', { class: 'event-body' },
      h('div', { class: 'event-media' }, video, frameFigure(e), timeline),
      h('div', { class: 'event-facts' },
        cropFigure(e),
        facts(e),
        plate ? plateReading(plate) : null,
        integrity(e),
        h('div', { class: 'export' },
          ongoing
            ? h('button', { type: 'button', class: 'primary', disabled: true, id: 'export', 'aria-describedby': 'export-help' }, t('exportEvidence'))
            : h('a', { class: 'button primary', href: evidenceUrl(e.id), download: '', id: 'export' }, t('exportEvidence')),
          h('p', { class: 'help', id: 'export-help' }, ongoing ? t('exportOngoing') : t('exportHelp')))))));
  showClip(video, e, signal);
  void showTimelineLink(timeline, e, signal);
}

/**
 * The event's video: the clip when it has one; while it is going on or just ended, "being made", asking again
 * every few seconds for a minute. Events at a station hub have no clips (the video stays on the box).
 */
function showClip(slot: HTMLElement, first: EventJson, signal: AbortSignal): void {
  const draw = (e: EventJson): boolean => {
    const clips = e.clips?.length ? e.clips : e.clip ? [e.clip] : [];
    if (clips.length > 0) {
      replace(slot, clipFigure(e, clips, signal));
      return true;
    }
    return false;
  };
  if (draw(first)) return;
  const recent = (e: EventJson) => e.end === null || Date.now() - Date.parse(e.end) < CLIP_RECENT_MS;
  if (first.box_name !== undefined || !recent(first)) return;
  const status = h('p', { class: 'clip-pending', role: 'status', id: 'clip-pending' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('clipPending'));
  replace(slot, h('figure', { class: 'clip' }, h('h2', {}, t('clipTitle')), status, h('p', { class: 'help' }, t('clipPendingHelp'))));
  const until = Date.now() + CLIP_POLL_FOR_MS;
  const timer = setInterval(async () => {
    if (signal.aborted) return clearInterval(timer);
    if (Date.now() > until) {
      clearInterval(timer);
      status.replaceChildren(t('clipStillPending'));
      return;
    }
    try {
      const e = await api.event(first.id);
      if (!signal.aborted && draw(e)) clearInterval(timer);
    } catch {
      // A failed look is tried again at the next tick, until the minute is over.
    }
  }, CLIP_POLL_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}

/** "Open in the camera's timeline", around the event, where the box has recordings to show (not at a hub). */
async function showTimelineLink(slot: HTMLElement, e: EventJson, signal: AbortSignal): Promise<void> {
  if (e.box_name !== undefined) return;
  const from = new Date(Date.parse(e.start) - TIMELINE_MARGIN_MS).toISOString();
  const to = new Date(Math.max(Date.parse(e.end ?? e.start), Date.parse(e.start)) + TIMELINE_MARGIN_MS).toISOString();
  try {
    await api.recordings(e.camera, from, to);
  } catch {
    return;
  }
  if (signal.aborted) return;
  replace(slot, h('a', { class: 'button secondary', href: timelineHash(e.camera, from, to, e.start), id: 'open-timeline' }, t('openTimeline')));
  slot.hidden = false;
}

/** Previous and next result of the search the officer came from, when this event is one of them. */
function stepper(id: number): HTMLElement | null {
  const results = rememberedResults();
  const at = results?.ids.indexOf(id) ?? -1;
  if (!results || at < 0) return null;
  const link = (to: number | undefined, text: string, rel: string) => to === undefined
    ? h('span', { class: 'button secondary small disabled', 'aria-disabled': 'true' }, text)
    : h('a', { class: 'button secondary small', href: `#/event/${to}`, rel, id: `result-${rel}` }, text);
  return h('nav', { class: 'stepper', 'aria-label': t('resultPosition', { i: at + 1, n: results.ids.length }) },
    link(results.ids[at - 1], `← ${t('prevResult')}`, 'prev'),
    h('span', { class: 'position' }, t('resultPosition', { i: at + 1, n: results.ids.length })),
    link(results.ids[at + 1], `${t('nextResult')} →`, 'next'));
}

function frameFigure(e: EventJson): HTMLElement {
  if (!e.snapshots.frame) return h('figure', { class: 'frame' }, h('div', { class: 'no-image' }, t('noImage')));
  const img = h('img', { src: snapshotUrl(e.id, 'frame'), alt: t('frameImage', { camera: e.camera, time: dateTime(e.start) }) });
  const points = e.path ?? [];
  const size = e.frame_size;
  let overlay: SVGElement | null = null;
  let toggle: HTMLElement | null = null;
  if (size && points.length >= 2) {
    const [w, hgt] = size;
    overlay = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'path-overlay', 'aria-hidden': 'true', preserveAspectRatio: 'none' });
    const line = points.map(([, x, y]) => `${x},${y}`).join(' ');
    const stroke = Math.max(2, w / 320);
    overlay.append(
      svg('polyline', { points: line, fill: 'none', stroke: '#000', 'stroke-opacity': '0.55', 'stroke-width': stroke * 2.2, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }),
      svg('polyline', { points: line, fill: 'none', stroke: '#ffd600', 'stroke-width': stroke, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' }),
      svg('circle', { cx: points[0]![1], cy: points[0]![2], r: stroke * 2.5, fill: 'none', stroke: '#ffd600', 'stroke-width': stroke }),
      svg('circle', { cx: points[points.length - 1]![1], cy: points[points.length - 1]![2], r: stroke * 2.5, fill: '#ffd600' }),
    );
    const box = h('input', { type: 'checkbox', id: 'show-path', checked: true, onchange: (ev: Event) => {
      overlay!.classList.toggle('hidden', !(ev.target as HTMLInputElement).checked);
    } });
    toggle = h('div', { class: 'path-toggle' }, box, h('label', { for: 'show-path' }, t('showPath')), h('span', { class: 'help' }, t('pathLegend', { n: points.length })));
  }
  return h('figure', { class: 'frame' }, h('div', { class: 'frame-stage' }, img, overlay), toggle);
}

/** The close-up, large beside the frame; a click (or Enter) shows it at the size of the window. */
function cropFigure(e: EventJson): HTMLElement | null {
  if (!e.snapshots.crop) return null;
  const alt = t('cropImage', { label: labelName(e.label) || t(`kind_${e.kind}`) });
  const zoom = h('button', { type: 'button', class: 'zoom', 'aria-label': t('zoomCrop'), title: t('zoomCrop'), 'aria-expanded': 'false' },
    h('img', { src: snapshotUrl(e.id, 'crop'), alt }));
  const close = () => {
    figure.classList.remove('zoomed');
    zoom.setAttribute('aria-expanded', 'false');
    document.removeEventListener('keydown', onKey);
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key === 'Escape') close();
  };
  zoom.addEventListener('click', () => {
    if (figure.classList.toggle('zoomed')) {
      zoom.setAttribute('aria-expanded', 'true');
      document.addEventListener('keydown', onKey);
    } else close();
  });
  const figure = h('figure', { class: 'crop' }, zoom);
  return figure;
}

function facts(e: EventJson): HTMLElement {
  const row = (term: string, value: Node | string | null) => (value === null || value === '' ? null : [h('dt', {}, term), h('dd', {}, value)]);
  // A plate reading is one moment: its time, not a start, an end and "0 s".
  const instant = e.end !== null && e.end === e.start;
  return h('dl', { class: 'facts' },
    row(t('fieldKind'), t(`kind_${e.kind}`)),
    row(t('fieldLabel'), labelName(e.label)),
    row(e.kind === 'plate' ? t('fieldPlateScore') : t('fieldScore'), e.score === null ? null : percent(e.score)),
    row(t('fieldCamera'), e.camera),
    e.box_name === undefined ? null : row(t('fieldBox'), e.box_id === undefined ? e.box_name : t('boxEventRef', { box: e.box_name, id: e.box_id })),
    row(t('fieldPlace'), placeName(e.location)),
    row(t('fieldZones'), e.zones.map(placeName).join(', ')),
    instant ? row(t('fieldTime'), dateTime(e.start)) : row(t('fieldStart'), dateTime(e.start)),
    instant ? null : row(t('fieldEnd'), e.end ? dateTime(e.end) : t('fieldStillOpen')),
    instant ? null : row(t('fieldDuration'), e.end ? duration(e.start, e.end) : null),
    colourRows(e).flatMap(([term, reading]) => row(term, reading) ?? []));
}

/** One row per reading: the vehicle's colour, or a person's top and bottom, each with its runner-up. */
function colourRows(e: EventJson): Array<[string, HTMLElement]> {
  const rows: Array<[string, HTMLElement]> = [];
  for (const [key, term] of [['colour', t('fieldColours')], ['vehicle_colour', t('fieldColours')], ['upper_colour', t('chipUpper')], ['lower_colour', t('chipLower')]] as const) {
    const reading = e.attributes[key] as { colour?: string; confidence?: number; alternative?: string } | undefined;
    if (!reading?.colour) continue;
    rows.push([term, h('span', { class: 'colour' },
      h('span', { class: 'swatch', style: `background:${colourSwatch(reading.colour)}` }),
      colourName(reading.colour),
      typeof reading.confidence === 'number' ? h('span', { class: 'muted' }, ` ${percent(reading.confidence)}`) : null,
      reading.alternative ? h('span', { class: 'runner-up' }, ` (${t('runnerUp', { colour: colourName(reading.alternative) })})`) : null)]);
  }
  return rows;
}

function plateReading(plate: NonNullable<EventJson['attributes']['plate']>): HTMLElement {
  const chars: PlateChar[] = plate.chars ?? [...plate.text].map((char) => ({ char, confidence: plate.confidence, alternatives: [] }));
  return h('section', { class: 'plate-reading', 'aria-labelledby': 'plate-title' },
    h('h2', { id: 'plate-title' }, t('plateTitle')),
    h('div', { class: `plate big plate-${plate.colour ?? 'blue'}` }, formatPlate(plate.text)),
    h('p', { class: 'help' }, [t('plateConfidence', { p: percent(plate.confidence) }), plate.reads ? t('plateReads', { n: plate.reads }) : ''].filter(Boolean).join(' · ')),
    h('table', { class: 'plate-chars' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('plateCharacter')), h('th', { scope: 'col' }, t('plateCharConfidence')), h('th', { scope: 'col' }, t('plateAlternatives')))),
      h('tbody', {}, chars.map((c) => h('tr', { class: c.confidence < 0.6 ? 'doubtful' : '' },
        h('th', { scope: 'row', class: 'plate-char' }, c.char),
        h('td', {}, h('span', { class: 'meter', role: 'img', 'aria-label': percent(c.confidence) }, h('span', { style: `width:${Math.round(c.confidence * 100)}%` })), ` ${percent(c.confidence)}`),
        h('td', {}, c.alternatives.length ? c.alternatives.map((a) => `${a.char} ${percent(a.confidence)}`).join(', ') : '—'))))));
}

function integrity(e: EventJson): HTMLElement {
  const row = (term: string, sha: string | undefined) => (sha ? [h('dt', {}, term), h('dd', {}, h('code', { class: 'hash' }, sha))] : null);
  return h('section', { class: 'integrity', 'aria-labelledby': 'integrity-title' },
    h('h2', { id: 'integrity-title' }, t('hashesTitle')),
    h('dl', { class: 'facts' }, row(t('hashFrame'), e.snapshots.frame?.sha256), row(t('hashCrop'), e.snapshots.crop?.sha256)),
    h('p', { class: 'help' }, t('hashesHelp')));
}
