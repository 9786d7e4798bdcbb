// Cameras: each one's health as ingest sees it, refreshed every few seconds while the page is open, with a
// way into its live view. At a station hub, a Box column: the box each camera is on, whether the hub reaches it,
// and how far behind the box its events are when that is more than a few seconds.
import { api, ApiError, timelineHash, type CameraRow } from './api.js';
import { h, replace } from './dom.js';
import { clock, minutesSince } from './format.js';
import { placeName, t } from './i18n.js';

const REFRESH_MS = 5000;
/** A box's events this far behind (seconds) are worth saying so next to its name. */
const LAG_SHOWN_S = 10;
/** The window a camera's Recordings link opens: the last ten minutes. */
const RECENT_MS = 10 * 60_000;

/** The Box cell at a hub: the box's name, and "unreachable" or how far behind its events are. */
function boxCell(c: CameraRow): HTMLElement {
  const lag = c.box_lag_s ?? null;
  return h('td', { 'data-label': t('colBox'), class: 'box-cell' },
    h('span', { class: 'box-name' }, c.box ?? ''),
    c.box_up === false
      ? [' ', h('span', { class: 'badge badge-down box-state', title: t('boxUnreachableTitle') }, t('boxUnreachable'))]
      : lag !== null && lag > LAG_SHOWN_S
        ? h('span', { class: 'quiet box-lag', title: t('boxLagTitle', { s: Math.round(lag) }) }, t('boxLag', { s: Math.round(lag) }))
        : null);
}

/** `hub`: the page is served by a station hub (its cameras are on several boxes). */
export function renderCameras(root: HTMLElement, live: boolean, signal: AbortSignal, hub = false): void {
  const status = h('p', { class: 'summary', role: 'status' }, t('loading'));
  const body = h('tbody');
  const head = h('thead');
  // Recordings are on a box, not at a hub; a box answers 404 on /api/recordings when it has none to list.
  let recordings: boolean | null = hub ? false : null;
  const drawHead = () => replace(head, h('tr', {},
    [t('colCamera'), hub ? t('colBox') : null, t('colPlace'), t('colState'), t('colFps'), t('colLastFrame'), t('colEventsToday'), t('colRestarts'), live ? t('colLive') : null,
      recordings ? t('colRecordings') : null]
      .filter((c): c is string => c !== null)
      .map((c) => h('th', { scope: 'col' }, c))));
  drawHead();
  replace(root, h('section', { class: 'cameras', 'aria-labelledby': 'cameras-title' },
    h('h1', { id: 'cameras-title' }, t('camerasTitle')),
    status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'camera-table' }, head, body))));

  const draw = (rows: CameraRow[], now: string) => {
    replace(body, rows.map((c) => {
      // A camera on a box the hub cannot reach: its state, rate and last frame are only as last seen, so the row
      // does not claim it is up and streaming now.
      const unreachable = c.box_up === false;
      const state = unreachable
        ? h('span', { class: 'badge badge-stopped', title: t('lastSeenState', { state: t(`state_${c.state}`) }) }, t('state_unknown'))
        : [h('span', { class: `badge badge-${c.state}`, title: c.last_error?.message ?? '' }, t(`state_${c.state}`)),
          c.quiet_since ? h('span', { class: 'quiet', title: t('quietCamera', { camera: c.name, minutes: minutesSince(c.quiet_since, now) }) },
            t('quietFor', { minutes: minutesSince(c.quiet_since, now) })) : null];
      return h('tr', { class: `state-${unreachable ? 'unknown' : c.state}` },
        h('th', { scope: 'row', 'data-label': t('colCamera') }, c.name),
        hub ? boxCell(c) : null,
        h('td', { 'data-label': t('colPlace') }, placeName(c.location)),
        h('td', { 'data-label': t('colState') }, state),
        h('td', { 'data-label': t('colFps'), class: 'num' }, unreachable ? '—' : c.fps.toFixed(1)),
        h('td', { 'data-label': t('colLastFrame'), class: 'num' },
          unreachable ? '—' : c.last_frame_age_s === null ? t('never') : t('secondsAgo', { s: c.last_frame_age_s.toFixed(1) })),
        h('td', { 'data-label': t('colEventsToday'), class: 'num' }, c.events_today),
        h('td', { 'data-label': t('colRestarts'), class: 'num' }, c.restarts),
        live ? h('td', { 'data-label': t('colLive') },
          h('a', { class: 'button secondary small', href: `#/live/${encodeURIComponent(c.name)}`, 'aria-label': t('watchLiveOf', { camera: c.name }) }, t('watchLive'))) : null,
        recordings ? h('td', { 'data-label': t('colRecordings') },
          h('a', { class: 'button secondary small recordings-link', href: timelineHash(c.name, new Date(Date.parse(now) - RECENT_MS).toISOString(), now),
            'aria-label': t('recordingsOf', { camera: c.name }) }, t('recordingsLink'))) : null);
    }));
    status.textContent = t('camerasRefreshed', { time: clock(now) });
  };

  const refresh = async () => {
    try {
      const { cameras, now } = await api.cameras();
      if (recordings === null && cameras[0]) {
        const name = cameras[0].name;
        recordings = await api.recordings(name, new Date(Date.parse(now) - 60_000).toISOString(), now)
          .then(() => true, (err) => (err instanceof ApiError && err.status === 404 ? false : null));
        drawHead();
      }
      if (!signal.aborted) draw(cameras, now);
    } catch (err) {
      if (!signal.aborted) status.textContent = t('errorGeneric', { error: (err as Error).message });
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}
