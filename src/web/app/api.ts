// The page's side of the daemon's API. The session cookie rides along on every request; a 401 anywhere
// means the session ended, and the page goes back to sign-in.

export interface SnapshotInfo { path: string; sha256: string }

export interface PlateChar { char: string; confidence: number; alternatives: Array<{ char: string; confidence: number }> }

export interface EventJson {
  id: number;
  seq: number;
  kind: 'motion' | 'object' | 'plate';
  camera: string;
  location: string;
  label: string | null;
  score: number | null;
  start: string;
  end: string | null;
  zones: string[];
  attributes: {
    colour?: { colour: string; confidence: number };
    upper_colour?: { colour: string; confidence: number };
    lower_colour?: { colour: string; confidence: number };
    vehicle_colour?: { colour: string; confidence: number };
    plate?: { text: string; confidence: number; chars?: PlateChar[]; colour?: string; reads?: number };
    [name: string]: unknown;
  };
  box: number[] | null;
  path: Array<[number, number, number]> | null;
  frame_size: [number, number] | null;
  snapshots: { frame: SnapshotInfo | null; crop: SnapshotInfo | null };
}

export interface SearchFilter {
  /** Absent in links made before kinds existed. */
  kinds?: Array<'motion' | 'object' | 'plate'>;
  labels: string[];
  colours: Array<{ colour: string; part: 'any' | 'upper' | 'lower' }>;
  places: Array<{ kind: 'camera' | 'location' | 'zone'; name: string; camera?: string }>;
  time: { from: string; to: string; around?: string } | null;
  plate: string | null;
  unknown: string[];
}

/** An event as a search answers it: one card per sighting. */
export interface SearchHit extends EventJson {
  /** How many events this card stands for (a track's object event and its plate readings, repeats). */
  sightings: number;
  also?: number[];
  /** Conditions met only approximately, e.g. ['plate'] for a reading one character off. */
  near_match: string[];
}

export interface Suggestion { change: string; filter: SearchFilter; count: number }

export interface SearchResult { query: string; filter: SearchFilter; events: SearchHit[]; next?: string; suggestions?: Suggestion[] }

export interface BoxInfo {
  version: string;
  time_zone: string;
  live: boolean;
  labels: string[];
  colours: string[];
  cameras: Array<{ name: string; location: string }>;
  /** Display names of places (locations and zones) per page language, where the config gives them. */
  place_names: Record<string, Partial<Record<'en' | 'zh', string>>>;
}

export interface CameraRow {
  name: string;
  location: string;
  state: 'starting' | 'up' | 'down' | 'failed' | 'stopped';
  fps: number;
  last_frame_age_s: number | null;
  restarts: number;
  last_error: { kind: string; message: string; at: string } | null;
  events_today: number;
  last_object_at: string | null;
  /** Set while the camera is up but has seen no person or vehicle for a long time: since when. */
  quiet_since: string | null;
}

export interface Session { signed_in: boolean; name: string | null; open: boolean }

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
  cameras: () => call<{ now: string; cameras: CameraRow[] }>('GET', '/api/cameras'),
  liveStatus: (camera: string) =>
    call<{ state: 'idle' | 'connecting' | 'playing' | 'retrying'; viewers: number; error?: string }>('GET', `/api/live/${encodeURIComponent(camera)}/status`),
};

export const snapshotUrl = (id: number, which: 'frame' | 'crop') => `/api/events/${id}/${which === 'frame' ? 'snapshot' : 'crop'}.jpg`;
export const evidenceUrl = (id: number) => `/api/events/${id}/evidence.zip`;
export const liveUrl = (camera: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live/${encodeURIComponent(camera)}`;
