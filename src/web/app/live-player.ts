// Live view of one camera: JSMpeg decodes the MPEG-1 stream the daemon forwards over a WebSocket and draws
// it on a canvas. Leaving the view closes the socket, which is what lets the daemon stop the transcoder.
import { api, liveUrl } from './api.js';
import { h, replace } from './dom.js';
import { clock } from './format.js';
import { t } from './i18n.js';

interface JsmpegPlayer { destroy(): void }
interface JsmpegStatic {
  Player: new (url: string, options: Record<string, unknown>) => JsmpegPlayer;
}
declare global {
  interface Window { JSMpeg?: JsmpegStatic }
}

export function renderLive(root: HTMLElement, camera: string, signal: AbortSignal): void {
  const canvas = h('canvas', { class: 'live-canvas', width: 1280, height: 720, role: 'img', 'aria-label': t('liveTitle', { camera }), 'data-frames': 0 });
  const state = h('span', { class: 'live-state connecting', role: 'status', 'aria-live': 'polite' }, t('liveConnecting'));
  const close = h('a', { href: '#/cameras', class: 'button secondary', id: 'close-live' }, t('closeLive'));
  replace(root, h('section', { class: 'live', 'aria-labelledby': 'live-title' },
    h('a', { href: '#/cameras', class: 'back' }, `← ${t('backToCameras')}`),
    h('header', { class: 'live-head' }, h('h1', { id: 'live-title' }, t('liveTitle', { camera })), state, close),
    h('div', { class: 'live-stage' }, canvas),
    h('p', { class: 'help' }, t('liveNote'))));

  const JSMpeg = window.JSMpeg;
  if (!JSMpeg) {
    state.textContent = t('errorGeneric', { error: 'JSMpeg did not load' });
    return;
  }
  let frames = 0;
  let lastFrameAt = 0;
  const player = new JSMpeg.Player(liveUrl(camera), {
    canvas,
    audio: false,
    autoplay: true,
    // The daemon restarts its transcoder on its own; the socket only reconnects if the daemon went away.
    reconnectInterval: 3,
    preserveDrawingBuffer: true,
    onVideoDecode: () => {
      frames += 1;
      lastFrameAt = Date.now();
      if (frames % 5 === 1) canvas.setAttribute('data-frames', String(frames));
    },
  });
  // The stream itself carries no status (JSMpeg would feed a text frame to its demuxer): the picture's
  // freshness comes from the decode clock, and why a camera is not answering from the status route.
  let reason = '';
  const watch = setInterval(() => {
    const fresh = Date.now() - lastFrameAt < 4000;
    state.className = `live-state ${frames === 0 ? 'connecting' : fresh ? 'playing' : 'retrying'}`;
    state.textContent = fresh
      ? `${t('livePlaying')} · ${clock(new Date().toISOString())}`
      : `${frames === 0 ? t('liveConnecting') : t('liveRetrying')}${reason ? ` (${reason})` : ''}`;
    canvas.setAttribute('data-frames', String(frames));
  }, 1000);
  const poll = setInterval(async () => {
    if (Date.now() - lastFrameAt < 4000) return;
    const status = await api.liveStatus(camera).catch(() => undefined);
    reason = status?.state === 'retrying' && status.error ? status.error : '';
  }, 3000);
  signal.addEventListener('abort', () => {
    clearInterval(watch);
    clearInterval(poll);
    player.destroy();
  });
}
