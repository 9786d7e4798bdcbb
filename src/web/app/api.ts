// The page's side of the daemon's API. The session cookie rides along on every request; a 401 anywhere
// means the session ended, and the page goes back to sign-in.

// The shapes are the daemon's own (src/contract/types.d.ts): a change there that the page does not follow is a
// compile error here.
import type {
  BoxInfoJson, CameraRowJson, CamerasJson, ColourName, EventJson, LiveStatusJson, PlateChar, SearchFilter, SearchHitJson, SearchResultJson, SessionJson,
  SnapshotInfo, SuggestionJson,
} from '../../contract/types.js';

export type { ColourName, EventJson, PlateChar, SearchFilter, SnapshotInfo };
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
};

export const snapshotUrl = (id: number, which: 'frame' | 'crop') => `/api/events/${id}/${which === 'frame' ? 'snapshot' : 'crop'}.jpg`;
export const evidenceUrl = (id: number) => `/api/events/${id}/evidence.zip`;
export const liveUrl = (camera: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live/${encodeURIComponent(camera)}`;
