// The page's shell: sign-in, the header, and a hash router over the five views (search, event, cameras,
// live, a camera's timeline of recordings). Every view gets an AbortSignal so leaving it stops its timers
// and closes its live socket.
import { api, whenUnauthorised, type BoxInfo, type Session } from './api.js';
import { renderCameras } from './cameras-view.js';
import { h, replace } from './dom.js';
import { renderEvent } from './event-view.js';
import { setTimeZone } from './format.js';
import { lang, setLang, setPlaceNames, t } from './i18n.js';
import { renderLive } from './live-player.js';
import { parseSearchHash, renderSearch } from './search-view.js';
import { renderTimeline } from './timeline-view.js';

const app = document.getElementById('app')!;
let session: Session | null = null;
let info: BoxInfo | null = null;
let view: AbortController | null = null;
let lastSearch = '#/search';

async function start(): Promise<void> {
  setLang(lang());
  whenUnauthorised(() => showSignIn(t('sessionExpired')));
  try {
    session = await api.session();
  } catch (err) {
    replace(app, h('p', { class: 'summary error', role: 'alert' }, t('errorGeneric', { error: (err as Error).message })));
    return;
  }
  if (!session.signed_in) return showSignIn();
  await enter();
}

async function enter(): Promise<void> {
  info = await api.info();
  setTimeZone(info.time_zone);
  setPlaceNames(info.place_names ?? {});
  window.addEventListener('hashchange', route);
  route();
}

function showSignIn(message?: string): void {
  view?.abort();
  window.removeEventListener('hashchange', route);
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' }, message ?? '');
  const form = h('form', { class: 'sign-in', 'aria-labelledby': 'sign-in-title', onsubmit: async (e: Event) => {
    e.preventDefault();
    error.textContent = '';
    try {
      session = await api.signIn(input.value);
      await enter();
    } catch {
      error.textContent = t('signInFailed');
      input.select();
    }
  } },
  h('div', { class: 'brand big' }, logo(), h('span', {}, t('appName')), h('small', {}, t('appTagline'))),
  h('h1', { id: 'sign-in-title' }, t('signInTitle')),
  h('p', {}, t('signInIntro')),
  h('label', { for: 'token' }, t('tokenLabel')),
  input,
  h('p', { id: 'token-help', class: 'help' }, t('tokenHelp')),
  error,
  h('div', { class: 'sign-in-actions' },
    h('button', { type: 'submit', class: 'primary' }, t('signInButton')),
    languageButton(() => showSignIn(message))));
  replace(app, h('main', { id: 'main', class: 'sign-in-page' }, form));
  input.focus();
}

function languageButton(redraw: () => void): HTMLElement {
  return h('button', { type: 'button', class: 'lang', lang: lang() === 'zh' ? 'en' : 'zh', 'aria-label': t('switchLanguageLabel'), onclick: () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    redraw();
  } }, t('switchLanguage'));
}

function logo(): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  el.setAttribute('viewBox', '0 0 24 24');
  el.setAttribute('aria-hidden', 'true');
  el.setAttribute('class', 'logo');
  el.innerHTML = '<path d="M12 2 4 5v6c0 5 3.4 9.5 8 11 4.6-1.5 8-6 8-11V5l-8-3z" fill="currentColor" opacity=".25"/><path d="M12 2 4 5v6c0 5 3.4 9.5 8 11 4.6-1.5 8-6 8-11V5l-8-3z" fill="none" stroke="currentColor" stroke-width="1.6"/><circle cx="12" cy="11" r="3" fill="currentColor"/>';
  return el;
}

function header(active: 'search' | 'cameras'): HTMLElement {
  const link = (href: string, text: string, on: boolean) => h('a', { href, class: on ? 'active' : '', 'aria-current': on ? 'page' : null }, text);
  return h('header', { class: 'top' },
    h('a', { href: '#main', class: 'skip' }, t('skipToContent')),
    h('div', { class: 'brand' }, logo(), h('span', {}, t('appName')), h('small', {}, t('appTagline'))),
    h('nav', { 'aria-label': 'vigil' }, link(lastSearch, t('navSearch'), active === 'search'), link('#/cameras', t('navCameras'), active === 'cameras')),
    h('div', { class: 'who' },
      languageButton(route),
      session && !session.open ? h('span', { class: 'user' }, t('signedInAs', { name: session.name ?? '' })) : null,
      session && !session.open ? h('button', { type: 'button', class: 'link', onclick: async () => {
        await api.signOut().catch(() => undefined);
        session = null;
        location.hash = '';
        showSignIn();
      } }, t('signOut')) : null));
}

function route(): void {
  if (!info) return;
  view?.abort();
  view = new AbortController();
  const hash = location.hash || '#/search';
  const [pathPart, query = ''] = hash.slice(1).split('?') as [string, string?];
  const parts = pathPart.split('/').filter(Boolean);
  const main = h('main', { id: 'main', tabindex: '-1' });
  const active = parts[0] === 'cameras' || parts[0] === 'live' || parts[0] === 'timeline' ? 'cameras' : 'search';
  if (parts[0] === 'search' || parts.length === 0) lastSearch = hash;
  replace(app, header(active), main);
  document.title = `vigil · ${active === 'cameras' ? t('navCameras') : t('navSearch')}`;
  const go = (next: string) => {
    if (location.hash === next) route();
    else location.hash = next;
  };
  if (parts[0] === 'event' && parts[1]) void renderEvent(main, Number(parts[1]), lastSearch, view.signal);
  else if (parts[0] === 'cameras') renderCameras(main, info.live, view.signal, info.boxes !== undefined);
  else if (parts[0] === 'live' && parts[1]) renderLive(main, decodeURIComponent(parts[1]), view.signal);
  else if (parts[0] === 'timeline') void renderTimeline(main, new URLSearchParams(query), view.signal, go);
  else renderSearch(main, parseSearchHash(query), info, go);
  // Keyboard and screen-reader users land on the new view's content, not back at the top of the page.
  if (parts[0] === 'event' || parts[0] === 'live' || parts[0] === 'timeline') main.focus({ preventScroll: true });
}

void start();
