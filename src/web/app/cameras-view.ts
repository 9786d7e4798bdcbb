// Cameras: each one's health as ingest sees it, refreshed every few seconds while the page is open, with a
// way into its live view.
import { api, type CameraRow } from './api.js';
import { h, replace } from './dom.js';
import { clock, minutesSince } from './format.js';
import { placeName, t } from './i18n.js';

const REFRESH_MS = 5000;

export function renderCameras(root: HTMLElement, live: boolean, signal: AbortSignal): void {
  const status = h('p', { class: 'summary', role: 'status' }, t('loading'));
  const body = h('tbody');
  replace(root, h('section', { class: 'cameras', 'aria-labelledby': 'cameras-title' },
    h('h1', { id: 'cameras-title' }, t('camerasTitle')),
    status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'camera-table' },
      h('thead', {}, h('tr', {},
        [t('colCamera'), t('colPlace'), t('colState'), t('colFps'), t('colLastFrame'), t('colEventsToday'), t('colRestarts'), live ? t('colLive') : null]
          .filter((c): c is string => c !== null)
          .map((c) => h('th', { scope: 'col' }, c)))),
      body))));

  const draw = (rows: CameraRow[], now: string) => {
    replace(body, rows.map((c) => h('tr', { class: `state-${c.state}` },
      h('th', { scope: 'row', 'data-label': t('colCamera') }, c.name),
      h('td', { 'data-label': t('colPlace') }, placeName(c.location)),
      h('td', { 'data-label': t('colState') }, h('span', { class: `badge badge-${c.state}`, title: c.last_error?.message ?? '' }, t(`state_${c.state}`)),
        c.quiet_since ? h('span', { class: 'quiet', title: t('quietCamera', { camera: c.name, minutes: minutesSince(c.quiet_since, now) }) },
          t('quietFor', { minutes: minutesSince(c.quiet_since, now) })) : null),
      h('td', { 'data-label': t('colFps'), class: 'num' }, c.fps.toFixed(1)),
      h('td', { 'data-label': t('colLastFrame'), class: 'num' }, c.last_frame_age_s === null ? t('never') : t('secondsAgo', { s: c.last_frame_age_s.toFixed(1) })),
      h('td', { 'data-label': t('colEventsToday'), class: 'num' }, c.events_today),
      h('td', { 'data-label': t('colRestarts'), class: 'num' }, c.restarts),
      live ? h('td', { 'data-label': t('colLive') },
        h('a', { class: 'button secondary small', href: `#/live/${encodeURIComponent(c.name)}`, 'aria-label': t('watchLiveOf', { camera: c.name }) }, t('watchLive'))) : null)));
    status.textContent = t('camerasRefreshed', { time: clock(now) });
  };

  const refresh = async () => {
    try {
      const { cameras, now } = await api.cameras();
      if (!signal.aborted) draw(cameras, now);
    } catch (err) {
      if (!signal.aborted) status.textContent = t('errorGeneric', { error: (err as Error).message });
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}
