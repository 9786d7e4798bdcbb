// The page's side of the daemon's API. The session cookie rides along on every request; a 401 anywhere
// means the session ended, and the page goes back to sign-in.

// The shapes are the daemon's own (src/contract/types.d.ts): a change there that the page does not follow is a
// compile error here.
import type {
  BoxInfoJson, CameraRowJson, CamerasJson, ClipJson, ColourName, EventJson, LiveStatusJson, PlateChar, RecordingSpanJson, RecordingsJson, SearchFilter,
  SearchHitJson, SearchResultJson, SessionJson, SnapshotInfo, SuggestionJson,
} from '../../contract/types.js';

export type { ClipJson, ColourName, EventJson, PlateChar, RecordingSpanJson, RecordingsJson, SearchFilter, SnapshotInfo };
/** GET /api/events: a listing by field, newest first. */
export interface EventListJson { events: EventJson[]; next?: string }
export type SearchHit = SearchHitJson;
export type Suggestion = SuggestionJson;
export type SearchResult = SearchResultJson;
export type BoxInfo = BoxInfoJson;
export type CameraRow = CameraRowJson;
export type Session = SessionJson;

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

let onUnauthorised: () => void = () => {};
export function whenUnauthorised(handler: () => void): void {
  onUnauthorised = handler;
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) {
    if (response.status === 401 && !url.startsWith('/api/session')) onUnauthorised();
    throw new ApiError(response.status, payload.error ?? `HTTP ${response.status}`);
  }
  return payload as T;
}

export const api = {
  session: () => call<Session>('GET', '/api/session'),
  signIn: (token: string) => call<Session>('POST', '/api/session', { token }),
  signOut: () => call<Session>('DELETE', '/api/session'),
  info: () => call<BoxInfo>('GET', '/api/info'),
  searchText: (q: string, cursor?: string) =>
    call<SearchResult>('GET', `/api/search?${new URLSearchParams({ q, limit: '48', ...(cursor ? { cursor } : {}) })}`),
  searchFilter: (filter: SearchFilter, query: string, cursor?: string) =>
    call<SearchResult>('POST', '/api/search', { filter, query, limit: 48, ...(cursor ? { cursor } : {}) }),
  event: (id: number) => call<EventJson>('GET', `/api/events/${id}`),
  cameras: () => call<CamerasJson>('GET', '/api/cameras'),
  liveStatus: (camera: string) => call<LiveStatusJson>('GET', `/api/live/${encodeURIComponent(camera)}/status`),
  /** What video a camera has in a window (at most 7 days); 404 where there is none to have (a station hub). */
  recordings: (camera: string, from: string, to: string) => call<RecordingsJson>('GET', `/api/recordings?${new URLSearchParams({ camera, from, to })}`),
  /** A camera's events in a window, newest first. */
  eventsIn: (camera: string, from: string, to: string, limit = 500) =>
    call<EventListJson>('GET', `/api/events?${new URLSearchParams({ camera, from, to, limit: String(limit) })}`),
};

/** What an export's first byte says about it: where it really starts (a keyframe before `from`), its codec. */
export interface ExportProbe {
  status: number;
  start: string | null;
  end: string | null;
  truncated: boolean;
  playable: boolean;
  codec: string | null;
  sha256: string | null;
  error?: string;
}

/** Asks for the export's first byte only: the box assembles it (and caches it for the player's requests) and its headers say what it holds. */
export async function probeExport(url: string, signal?: AbortSignal): Promise<ExportProbe> {
  const response = await fetch(url, { credentials: 'same-origin', headers: { range: 'bytes=0-0' }, signal });
  const header = (name: string) => response.headers.get(name);
  let error: string | undefined;
  if (!response.ok) {
    if (response.status === 401) onUnauthorised();
    error = ((await response.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${response.status}`;
  } else await response.body?.cancel().catch(() => undefined);
  return {
    status: response.status,
    start: header('x-clip-start'),
    end: header('x-clip-end'),
    truncated: header('x-clip-truncated') === 'true',
    playable: header('x-clip-browser-playable') !== 'false',
    codec: header('x-clip-codec'),
    sha256: header('x-content-sha256'),
    ...(error === undefined ? {} : { error }),
  };
}

export const snapshotUrl = (id: number, which: 'frame' | 'crop') => `/api/events/${id}/${which === 'frame' ? 'snapshot' : 'crop'}.jpg`;
export const evidenceUrl = (id: number) => `/api/events/${id}/evidence.zip`;
export const liveUrl = (camera: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live/${encodeURIComponent(camera)}`;
/** A media URL that the box sends as an attachment (a file to keep) instead of for playing. */
export const downloadUrl = (url: string) => `${url}${url.includes('?') ? '&' : '?'}download`;
export const exportUrl = (camera: string, from: string, to: string) => `/api/recordings/export.mp4?${new URLSearchParams({ camera, from, to })}`;
/** The page's timeline of a camera over a window; `at`: the moment the player starts at. */
export const timelineHash = (camera: string, from: string, to: string, at?: string) =>
  `#/timeline?${new URLSearchParams({ camera, from, to, ...(at ? { at } : {}) })}`;
