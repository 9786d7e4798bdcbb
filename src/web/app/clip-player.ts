// An event's video in its view: the clip the box cut around it (pre_s before to post_s after), with the tracked
// object's box drawn over the picture where the track says it was at that moment, the clip's hash, its parts,
// and a download. A camera that sends H.265 gets the download and why it does not play here.
import { downloadUrl, type ClipJson, type EventJson } from './api.js';
import { h, replace } from './dom.js';
import { clock, dateTime, duration } from './format.js';
import { labelName, t } from './i18n.js';

/** The clip block of an event that has one. `signal` ends its drawing loop when the officer leaves the view. */
export function clipFigure(e: EventJson, clips: ClipJson[], signal: AbortSignal): HTMLElement {
  const figure = h('figure', { class: 'clip', 'aria-labelledby': 'clip-title' });
  const first = clips[0]!;
  if (!first.browser_playable) {
    replace(figure,
      h('h2', { id: 'clip-title' }, t('clipTitle')),
      h('div', { class: 'clip-unplayable warning', role: 'note', id: 'clip-unplayable' },
        h('p', {}, t('hevcMessage', { codec: codecName(first.codec) })),
        h('p', { class: 'help' }, t('hevcHint'))),
      h('div', { class: 'clip-parts-downloads' }, clips.map((c) =>
        h('a', { class: 'button secondary small clip-download', href: downloadUrl(c.url), download: '' },
          clips.length > 1 ? `${t('clipDownload')} · ${t('clipPart', { n: c.part + 1 })}` : t('clipDownload')))),
      clipFacts(first, false));
    return figure;
  }

  const video = h('video', {
    id: 'event-clip', controls: true, preload: 'metadata', playsinline: true, src: first.url,
    'aria-label': t('clipVideoLabel', { id: e.id, camera: e.camera, time: dateTime(first.start) }),
  });
  const canvas = h('canvas', { class: 'track-overlay', id: 'event-clip-overlay', 'aria-hidden': 'true' });
  const facts = h('div', { class: 'clip-facts-wrap' });
  const note = h('p', { class: 'clip-truncated warning', role: 'note', hidden: true });
  let current = first;
  let showBox = true;

  const draw = () => drawTrack(canvas, video, e, current, showBox);
  const show = (clip: ClipJson) => {
    current = clip;
    replace(facts, clipFacts(clip));
    note.hidden = !clip.truncated;
    note.textContent = clip.truncated ? t('clipTruncated', { time: clock(clip.end) }) : '';
    draw();
  };

  const parts = clips.length > 1
    ? h('div', { class: 'clip-parts', role: 'group', 'aria-label': t('clipParts') },
      clips.map((c, i) => h('button', {
        type: 'button', class: 'secondary small clip-part', 'aria-pressed': i === 0 ? 'true' : 'false', 'data-part': c.part,
        onclick: (ev: Event) => {
          if (current === c) return;
          for (const b of parts!.querySelectorAll('button')) b.setAttribute('aria-pressed', b === ev.currentTarget ? 'true' : 'false');
          video.src = c.url;
          show(c);
        },
      }, t('clipPart', { n: i + 1 }))),
      h('span', { class: 'help' }, t('clipPartsHelp', { n: clips.length })))
    : null;

  const hasTrack = (e.path?.length ?? 0) > 0 && e.frame_size !== null;
  const toggle = hasTrack
    ? h('div', { class: 'path-toggle' },
      h('input', { type: 'checkbox', id: 'show-track-box', checked: true, onchange: (ev: Event) => {
        showBox = (ev.target as HTMLInputElement).checked;
        draw();
      } }),
      h('label', { for: 'show-track-box' }, t('showTrackBox')),
      h('span', { class: 'help' }, t('trackBoxLegend', { label: labelName(e.label) || t(`kind_${e.kind}`) })))
    : null;

  // While it plays, the box is redrawn every frame the screen shows; paused, seeking or resized, once.
  let frame = 0;
  const loop = () => {
    draw();
    frame = video.paused || video.ended ? 0 : requestAnimationFrame(loop);
  };
  video.addEventListener('play', () => {
    if (!frame) frame = requestAnimationFrame(loop);
  });
  for (const name of ['loadedmetadata', 'loadeddata', 'seeked', 'timeupdate', 'pause', 'ended', 'emptied']) video.addEventListener(name, draw);
  const resize = new ResizeObserver(draw);
  resize.observe(video);
  signal.addEventListener('abort', () => {
    cancelAnimationFrame(frame);
    resize.disconnect();
    video.pause();
  });

  replace(figure,
    h('h2', { id: 'clip-title' }, t('clipTitle')),
    h('div', { class: 'clip-stage' }, video, canvas),
    parts,
    note,
    toggle,
    facts);
  show(first);
  return figure;
}

/** Length, codec and size, the clip's SHA-256, and the download (unless the caller lists its own). */
function clipFacts(clip: ClipJson, download = true): HTMLElement {
  return h('div', { class: 'clip-facts' },
    h('p', { class: 'help' }, t('clipSpan', { duration: duration(clip.start, clip.end), from: clock(clip.start), to: clock(clip.end) }),
      ` · ${codecName(clip.codec)} · ${megabytes(clip.bytes)}`),
    h('dl', { class: 'facts' },
      h('dt', {}, t('clipHash')),
      h('dd', {}, h('code', { class: 'hash', id: 'clip-sha256' }, clip.sha256))),
    download ? h('a', { class: 'button secondary small clip-download', href: downloadUrl(clip.url), download: '', id: 'clip-download' }, t('clipDownload')) : null);
}

export function codecName(codec: string | null): string {
  if (codec === 'h264') return 'H.264';
  if (codec === 'hevc' || codec === 'h265') return 'H.265 (HEVC)';
  return codec ?? '?';
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(bytes < 10_485_760 ? 1 : 0)} MB`;

/**
 * The tracked object's box at the video's current moment: wall time is the clip's start plus the video's time;
 * the centre comes from the two track points either side of it, the size from the event's best box; both are in
 * the detect frame's pixels, mapped onto the part of the element the picture fills (object-fit: contain leaves
 * bars beside or above it). Nothing is drawn outside the track's first to last point.
 */
export function drawTrack(canvas: HTMLCanvasElement, video: HTMLVideoElement, e: EventJson, clip: ClipJson, show = true): void {
  const ratio = window.devicePixelRatio || 1;
  const width = video.clientWidth;
  const height = video.clientHeight;
  const pw = Math.max(1, Math.round(width * ratio));
  const ph = Math.max(1, Math.round(height * ratio));
  if (canvas.width !== pw || canvas.height !== ph) {
    canvas.width = pw;
    canvas.height = ph;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pw, ph);
  const points = e.path ?? [];
  const size = e.frame_size;
  if (!show || points.length === 0 || !size || !video.videoWidth || !video.videoHeight || !width || !height) return;
  const wall = Date.parse(clip.start) + video.currentTime * 1000;
  // A track of one point is a moment: shown for half a second either side of it.
  const slack = points.length === 1 ? 500 : 0;
  if (wall < points[0]![0] - slack || wall > points[points.length - 1]![0] + slack) return;
  let cx = points[0]![1];
  let cy = points[0]![2];
  for (let i = 1; i < points.length; i++) {
    const [t1, x1, y1] = points[i]!;
    const [t0, x0, y0] = points[i - 1]!;
    if (wall > t1) {
      [cx, cy] = [x1, y1];
      continue;
    }
    const f = t1 > t0 ? Math.min(1, Math.max(0, (wall - t0) / (t1 - t0))) : 1;
    cx = x0 + (x1 - x0) * f;
    cy = y0 + (y1 - y0) * f;
    break;
  }
  const [fw, fh] = size;
  const scale = Math.min(width / video.videoWidth, height / video.videoHeight);
  const shownW = video.videoWidth * scale;
  const shownH = video.videoHeight * scale;
  const left = (width - shownW) / 2;
  const top = (height - shownH) / 2;
  const sx = shownW / fw;
  const sy = shownH / fh;
  const box = e.box && e.box.length >= 4 ? e.box : null;
  const bw = (box ? box[2]! - box[0]! : fw / 10) * sx;
  const bh = (box ? box[3]! - box[1]! : fh / 10) * sy;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, shownW, shownH);
  ctx.clip();
  // The way it came, faint; then the box, yellow on a dark outline so it shows on any picture.
  const passed = points.filter(([time]) => time <= wall).map(([, x, y]) => [left + x * sx, top + y * sy] as const);
  passed.push([left + cx * sx, top + cy * sy]);
  if (passed.length >= 2) {
    ctx.beginPath();
    passed.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.strokeStyle = 'rgba(255, 214, 0, 0.55)';
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  const x = left + cx * sx - bw / 2;
  const y = top + cy * sy - bh / 2;
  ctx.lineWidth = 4;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.strokeRect(x, y, bw, bh);
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#ffd600';
  ctx.strokeRect(x, y, bw, bh);
  ctx.restore();
}
