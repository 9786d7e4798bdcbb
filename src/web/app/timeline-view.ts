// A camera's recordings over a window of time: a bar with the video the box holds (gaps where the camera was down
// or recording was off), the window's events as marks on it, and a player of the box's export of the window. The
// export is one run of video that plays back to back (the run holding its start), at most max_export_s long:
// a mark or a click on the bar outside it loads the run that holds that moment.
import { api, ApiError, downloadUrl, exportUrl, probeExport, timelineHash, type EventJson, type ExportProbe, type RecordingSpanJson } from './api.js';
import { codecName } from './clip-player.js';
import { h, replace } from './dom.js';
import { clock, day, duration, fromLocalInput, shortClock, toLocalInput } from './format.js';
import { labelName, t } from './i18n.js';

const MINUTE = 60_000;
/** The window shown when the link names none, and the step of the earlier / later buttons. */
const DEFAULT_WINDOW_MS = 10 * MINUTE;
const STEP_MS = 10 * MINUTE;
/** The longest window the box lists (GET /api/recordings). */
const MAX_WINDOW_MS = 7 * 24 * 60 * MINUTE;

const iso = (ms: number) => new Date(ms).toISOString();
const parse = (value: string | null) => {
  const ms = value === null ? NaN : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};

/** "2026-11-28": the day `ms` falls on in the box's zone. */
const localDate = (ms: number) => toLocalInput(iso(ms)).slice(0, 10);

/** "today", "yesterday" or the date, in the box's zone. */
function dayWord(ms: number): string {
  if (localDate(ms) === localDate(Date.now())) return t('today');
  if (localDate(ms) === localDate(Date.now() - 24 * 60 * MINUTE)) return t('yesterday');
  return day(iso(ms));
}

/** "market-east, today 14:00–14:10" (the end's day too when the window crosses midnight). */
export function timelineTitle(camera: string, from: number, to: number): string {
  const sameDay = localDate(from) === localDate(to);
  return t('timelineTitle', {
    camera,
    day: dayWord(from),
    from: shortClock(iso(from)),
    to: sameDay ? shortClock(iso(to)) : `${dayWord(to)} ${shortClock(iso(to))}`,
  });
}

export async function renderTimeline(root: HTMLElement, params: URLSearchParams, signal: AbortSignal, go: (hash: string) => void): Promise<void> {
  const camera = params.get('camera') ?? '';
  let to = parse(params.get('to')) ?? Date.now();
  let from = parse(params.get('from')) ?? to - DEFAULT_WINDOW_MS;
  if (to <= from) from = to - DEFAULT_WINDOW_MS;
  if (to - from > MAX_WINDOW_MS) from = to - MAX_WINDOW_MS;
  const at = parse(params.get('at'));
  const length = to - from;
  const back = h('a', { href: '#/cameras', class: 'back' }, `← ${t('backToCameras')}`);
  if (!camera) {
    replace(root, back, h('p', { class: 'summary error', role: 'alert' }, t('timelineNoCamera')));
    return;
  }
  const move = (nextFrom: number, nextTo = nextFrom + length) => go(timelineHash(camera, iso(nextFrom), iso(nextTo)));

  // A text field in the page's one time format (24-hour, the box's zone), as the search's time fields: a
  // datetime-local picker shows the viewing PC's locale (AM/PM) and means the PC's zone to whoever reads it.
  const input = h('input', { type: 'text', id: 'timeline-from', inputmode: 'numeric', size: 16, value: toLocalInput(iso(from)), 'aria-describedby': 'timeline-from-help' });
  const inputError = h('p', { class: 'form-error', role: 'alert', id: 'timeline-from-error' });
  const controls = h('form', { class: 'timeline-controls', 'aria-label': t('timelineMove'), onsubmit: (ev: Event) => {
    ev.preventDefault();
    const chosen = fromLocalInput(input.value);
    if (!chosen) {
      inputError.textContent = t('badTime');
      return;
    }
    move(Date.parse(chosen));
  } },
  h('button', { type: 'button', class: 'secondary small', id: 'timeline-earlier', onclick: () => move(from - STEP_MS) }, `← ${t('timelineEarlier')}`),
  h('button', { type: 'button', class: 'secondary small', id: 'timeline-later', onclick: () => move(from + STEP_MS) }, `${t('timelineLater')} →`),
  h('button', { type: 'button', class: 'secondary small', id: 'timeline-latest', onclick: () => move(Date.now() - DEFAULT_WINDOW_MS, Date.now()) }, t('timelineLatest')),
  h('span', { class: 'field' },
    h('label', { for: 'timeline-from' }, t('timelineFrom')),
    h('span', { class: 'timeline-from-row' }, input, h('button', { type: 'submit', class: 'primary small', id: 'timeline-go' }, t('timelineGo')))),
  h('span', { class: 'help', id: 'timeline-from-help' }, t('timelineFromHelp', { minutes: Math.round(length / MINUTE) })),
  inputError);

  const status = h('p', { class: 'summary', role: 'status', id: 'timeline-status' }, t('loading'));
  const track = h('div', { class: 'timeline-track' });
  const playhead = h('div', { class: 'timeline-playhead', hidden: true });
  const loaded = h('div', { class: 'timeline-loaded', hidden: true });
  const marks = h('div', { class: 'timeline-marks' });
  const bar = h('div', { class: 'timeline-bar', id: 'timeline-bar', role: 'group', 'aria-label': t('timelineBarLabel', { from: clock(iso(from)), to: clock(iso(to)) }) },
    track, loaded, marks, playhead);
  const axis = h('div', { class: 'timeline-axis', 'aria-hidden': 'true' },
    [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { style: `left:${f * 100}%` }, clock(iso(from + f * length)))));
  const legend = h('p', { class: 'timeline-legend help' },
    h('span', { class: 'key key-recorded' }), t('timelineRecorded'), ' ',
    h('span', { class: 'key key-gap' }), t('timelineGap'), ' ',
    h('span', { class: 'key key-event' }), t('timelineEvent'));
  const player = h('div', { class: 'timeline-player' });
  const eventList = h('div', { class: 'timeline-events' });

  replace(root, h('section', { class: 'timeline', 'aria-labelledby': 'timeline-title' },
    h('div', { class: 'event-nav' }, back),
    h('h1', { id: 'timeline-title' }, timelineTitle(camera, from, to)),
    controls,
    status,
    h('div', { class: 'timeline-stage' }, bar, axis, legend),
    player,
    eventList));
  document.title = `vigil · ${t('recordingsOf', { camera })}`;

  let spans: RecordingSpanJson[];
  let maxExportMs: number;
  let events: EventJson[] = [];
  try {
    const [recordings, listed] = await Promise.all([
      api.recordings(camera, iso(from), iso(to)),
      api.eventsIn(camera, iso(from), iso(to)).catch(() => ({ events: [] as EventJson[] })),
    ]);
    spans = recordings.spans;
    maxExportMs = recordings.max_export_s * 1000;
    events = listed.events.filter((e) => Date.parse(e.start) >= from && Date.parse(e.start) <= to).reverse();
  } catch (err) {
    if (signal.aborted) return;
    status.classList.add('error');
    status.textContent = err instanceof ApiError && err.status === 404 ? t('timelineNoRecordings', { error: err.message }) : t('errorGeneric', { error: (err as Error).message });
    return;
  }
  if (signal.aborted) return;

  const fraction = (ms: number) => Math.min(1, Math.max(0, (ms - from) / length));
  const place = (el: HTMLElement, start: number, end: number) => {
    el.style.left = `${fraction(start) * 100}%`;
    el.style.width = `${Math.max(0.2, (fraction(end) - fraction(start)) * 100)}%`;
  };
  replace(track, spans.map((s) => {
    const el = h('div', { class: `timeline-span${s.stream_ended ? ' ended' : ''}`, title: `${clock(s.start)}–${clock(s.end)}` });
    place(el, Date.parse(s.start), Date.parse(s.end));
    return el;
  }));
  const recordedMs = spans.reduce((sum, s) => sum + Math.min(to, Date.parse(s.end)) - Math.max(from, Date.parse(s.start)), 0);
  status.textContent = spans.length === 0
    ? t('timelineNothing', { camera })
    : t('timelineSummary', { recorded: duration(iso(0), iso(Math.max(0, recordedMs))), window: duration(iso(from), iso(to)), gaps: Math.max(0, gapCount(spans, from, to)) });

  // The player: which export is loaded, where it starts (its first keyframe, x-clip-start) and ends.
  let clip: { from: number; start: number; end: number } | null = null;
  let loading: Promise<void> | null = null;
  const video = h('video', { id: 'timeline-video', controls: true, preload: 'metadata', playsinline: true, 'aria-label': t('timelineVideoLabel', { camera }) });
  const playerNote = h('p', { class: 'help', id: 'timeline-player-note' });
  const playerStatus = h('p', { class: 'summary', role: 'status', id: 'timeline-player-status' });
  const download = h('a', { class: 'button secondary small', id: 'timeline-download', download: '', hidden: true }, t('timelineDownload'));
  const hashLine = h('p', { class: 'help timeline-hash' });
  replace(player, h('h2', {}, t('timelineVideo')), playerStatus, h('div', { class: 'timeline-video-stage', hidden: true }, video), playerNote, hashLine, download);

  const wallOfVideo = () => (clip ? clip.start + video.currentTime * 1000 : NaN);
  const drawPlayhead = () => {
    const wall = wallOfVideo();
    playhead.hidden = Number.isNaN(wall) || wall < from || wall > to;
    if (!playhead.hidden) playhead.style.left = `${fraction(wall) * 100}%`;
  };
  for (const name of ['timeupdate', 'seeked', 'loadedmetadata']) video.addEventListener(name, drawPlayhead);
  signal.addEventListener('abort', () => {
    video.pause();
    video.removeAttribute('src');
    video.load();
  });

  /** Loads the export from `playFrom` (to the window's end, at most max_export_s); resolves once its metadata is in. */
  const load = (playFrom: number): Promise<void> => {
    const playTo = Math.min(to, playFrom + maxExportMs);
    const url = exportUrl(camera, iso(playFrom), iso(playTo));
    const run = async () => {
      playerStatus.textContent = t('timelinePreparing');
      let probe: ExportProbe;
      try {
        probe = await probeExport(url, signal);
      } catch (err) {
        if (!signal.aborted) playerStatus.textContent = t('errorGeneric', { error: (err as Error).message });
        return;
      }
      if (signal.aborted) return;
      download.href = downloadUrl(url);
      download.hidden = probe.status >= 400;
      if (probe.status === 404) {
        playerStatus.textContent = t('timelineNothingToPlay');
        return;
      }
      if (probe.status >= 400 || !probe.start || !probe.end) {
        playerStatus.textContent = t('errorGeneric', { error: probe.error ?? `HTTP ${probe.status}` });
        return;
      }
      const start = Date.parse(probe.start);
      const end = Date.parse(probe.end);
      // The player asks for the window that exists (to its recorded end): a window reaching into the future is
      // made again with more video once the box's minute is up, and every Range request must read one file.
      const playUrl = end < playTo ? exportUrl(camera, iso(playFrom), probe.end) : url;
      download.href = downloadUrl(playUrl);
      hashLine.replaceChildren(`${t('clipHash')}: `, h('code', { class: 'hash', id: 'timeline-sha256' }, probe.sha256 ?? ''));
      const notes = [
        t('timelinePlaying', { from: clock(probe.start), to: clock(probe.end), codec: codecName(probe.codec) }),
        to - playFrom > maxExportMs ? t('timelineFirstPart', { minutes: Math.round(maxExportMs / MINUTE) }) : '',
        probe.truncated ? t('clipTruncated', { time: clock(probe.end) }) : '',
      ].filter(Boolean);
      playerNote.textContent = notes.join(' ');
      if (!probe.playable) {
        clip = null;
        playerStatus.replaceChildren(h('span', { class: 'warning', id: 'timeline-unplayable' }, t('hevcMessage', { codec: codecName(probe.codec) }), ' ', t('hevcHint')));
        return;
      }
      playerStatus.textContent = '';
      (player.querySelector('.timeline-video-stage') as HTMLElement).hidden = false;
      clip = { from: playFrom, start, end };
      video.dataset.clipStart = probe.start;
      place(loaded, start, end);
      loaded.hidden = false;
      const ready = new Promise<void>((resolve) => {
        video.addEventListener('loadedmetadata', () => resolve(), { once: true });
        video.addEventListener('error', () => resolve(), { once: true });
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      video.src = playUrl;
      await ready;
    };
    loading = run();
    return loading;
  };

  /** Plays the recording at wall time `ms`: seeks the loaded export if it holds it, else loads the run that does. */
  const playAt = async (ms: number, start = true) => {
    if (loading) await loading;
    if (!clip || ms < clip.start || ms >= clip.end) {
      const span = spans.find((s) => Date.parse(s.end) > ms && Date.parse(s.start) <= ms) ?? spans.find((s) => Date.parse(s.start) > ms);
      if (!span) {
        playerStatus.textContent = t('timelineNoVideoAt', { time: clock(iso(ms)) });
        return;
      }
      const runStart = Math.max(from, Date.parse(span.start));
      // A moment further into the run than one export holds starts its own export a little before it.
      const playFrom = ms - runStart < maxExportMs - MINUTE ? runStart : ms - MINUTE;
      await load(playFrom);
      if (!clip || signal.aborted) return;
    }
    video.currentTime = Math.max(0, (Math.max(ms, clip.start) - clip.start) / 1000);
    drawPlayhead();
    if (start) await video.play().catch(() => undefined);
  };

  replace(marks, events.map((e) => {
    const what = `${e.id}: ${labelName(e.label) || t(`kind_${e.kind}`)} · ${clock(e.start)}`;
    const mark = h('button', {
      type: 'button', class: `timeline-mark kind-${e.kind}`, 'data-event-id': e.id, 'data-start': e.start,
      title: t('timelineMarkTitle', { what }), 'aria-label': t('timelineMarkTitle', { what }),
      onclick: (ev: Event) => {
        ev.stopPropagation();
        void playAt(Date.parse(e.start));
      },
    });
    mark.style.left = `${fraction(Date.parse(e.start)) * 100}%`;
    return mark;
  }));
  // A click on the bar plays that moment.
  bar.addEventListener('click', (ev: MouseEvent) => {
    const rect = bar.getBoundingClientRect();
    if (rect.width > 0) void playAt(from + ((ev.clientX - rect.left) / rect.width) * length);
  });

  replace(eventList,
    h('h2', {}, t('timelineEvents', { n: events.length })),
    events.length === 0
      ? h('p', { class: 'help' }, t('timelineNoEvents'))
      : h('ol', { class: 'timeline-event-list' }, events.map((e) => h('li', {},
        h('button', { type: 'button', class: 'secondary small', onclick: () => void playAt(Date.parse(e.start)) }, `▶ ${clock(e.start)}`),
        ' ',
        h('a', { href: `#/event/${e.id}` }, `${labelName(e.label) || t(`kind_${e.kind}`)} · ${t('eventTitle', { id: e.id })}`)))));

  if (spans.length === 0) {
    playerStatus.textContent = t('timelineNothingToPlay');
    return;
  }
  const first = Math.max(from, Date.parse(spans[0]!.start));
  if (at !== undefined) await playAt(at, false);
  else await load(first);
}

/** Gaps inside the window: before the first span, between spans, and after the last. */
function gapCount(spans: RecordingSpanJson[], from: number, to: number): number {
  if (spans.length === 0) return 1;
  // A second of slack: a span is closed when its last segment is, and a window's edges fall inside segments.
  const SLACK = 1500;
  let gaps = Date.parse(spans[0]!.start) - from > SLACK ? 1 : 0;
  for (let i = 1; i < spans.length; i++) if (Date.parse(spans[i]!.start) - Date.parse(spans[i - 1]!.end) > SLACK) gaps++;
  if (to - Date.parse(spans[spans.length - 1]!.end) > SLACK && to < Date.now() - SLACK) gaps++;
  return gaps;
}
