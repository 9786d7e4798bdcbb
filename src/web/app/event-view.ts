// One event as evidence: the annotated frame with the track's path, the close-up, every recorded field,
// the plate reading character by character, the capture hashes, and the export.
import { api, ApiError, evidenceUrl, snapshotUrl, type EventJson, type PlateChar } from './api.js';
import { h, replace, svg } from './dom.js';
import { dateTime, duration, percent } from './format.js';
import { colourName, colourSwatch, labelName, t } from './i18n.js';
import { colourReadings, formatPlate } from './search-view.js';

export async function renderEvent(root: HTMLElement, id: number, backHash: string): Promise<void> {
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
  const heading = [labelName(e.label) || t(`kind_${e.kind}`), ...colours.map((c) => colourName(c.colour))].join(' · ');

  replace(root, h('article', { class: 'event', 'aria-labelledby': 'event-title' },
    h('a', { href: backHash, class: 'back' }, `← ${t('backToResults')}`),
    h('header', { class: 'event-head' },
      h('h1', { id: 'event-title' }, heading),
      h('p', { class: 'event-sub' }, `${t('eventTitle', { id: e.id })} · ${e.camera} · ${e.location} · ${dateTime(e.start)}`)),
    h('div', { class: 'event-body' },
      h('div', { class: 'event-media' }, frameFigure(e), cropFigure(e)),
      h('div', { class: 'event-facts' },
        facts(e, colours),
        e.attributes.plate ? plateReading(e.attributes.plate) : null,
        integrity(e),
        h('div', { class: 'export' },
          h('a', { class: 'button primary', href: evidenceUrl(e.id), download: '', id: 'export' }, t('exportEvidence')),
          h('p', { class: 'help' }, t('exportHelp')))))));
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

function cropFigure(e: EventJson): HTMLElement | null {
  if (!e.snapshots.crop) return null;
  return h('figure', { class: 'crop' }, h('img', { src: snapshotUrl(e.id, 'crop'), alt: t('cropImage', { label: labelName(e.label) || t(`kind_${e.kind}`) }) }));
}

function facts(e: EventJson, colours: Array<{ colour: string; part: string }>): HTMLElement {
  const row = (term: string, value: Node | string | null) => (value === null || value === '' ? null : [h('dt', {}, term), h('dd', {}, value)]);
  return h('dl', { class: 'facts' },
    row(t('fieldKind'), t(`kind_${e.kind}`)),
    row(t('fieldLabel'), labelName(e.label)),
    row(t('fieldScore'), e.score === null ? null : percent(e.score)),
    row(t('fieldCamera'), e.camera),
    row(t('fieldPlace'), e.location),
    row(t('fieldZones'), e.zones.join(', ')),
    row(t('fieldStart'), dateTime(e.start)),
    row(t('fieldEnd'), e.end ? dateTime(e.end) : t('fieldStillOpen')),
    row(t('fieldDuration'), e.end ? duration(e.start, e.end) : null),
    row(t('fieldColours'), colours.length
      ? h('span', {}, colours.map((c) => h('span', { class: 'colour' },
        h('span', { class: 'swatch', style: `background:${colourSwatch(c.colour)}` }),
        `${c.part === 'upper' ? `${t('chipUpper')} ` : c.part === 'lower' ? `${t('chipLower')} ` : ''}${colourName(c.colour)}`)))
      : null));
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
