// The cameras page's data: each camera's health as ingest sees it, and how many events it produced today
// (the box's local day); and the box facts the page starts from. Camera URLs are never sent: they may
// carry passwords.
import type { FastifyInstance } from 'fastify';
import { PALETTE } from '../vocabulary/colours.js';
import type { BoxInfoJson, CameraRowJson, CamerasJson } from '../contract/types.js';
import type { EventQueries } from '../events/event-queries.js';
import type { CameraStatus } from '../ingest/camera-supervisor.js';
import { localDate, localInstant } from '../time/local-time.js';

export interface CameraApiDeps {
  cameras(): CameraStatus[];
  store: EventQueries;
  /** Read at every request: a config reload may change it. */
  timeZone: () => string;
  /** Whether the live view is served (the page hides the button when it is not). */
  live: boolean;
  version: string;
  /** The labels the detector reports (the page's label filter). */
  labels: readonly string[];
  /** Display names of locations and zones per page language (config: location_names, zones[].names). */
  placeNames: () => Record<string, { en?: string; zh?: string }>;
  /** Minutes an up camera may go without an object event before it is reported quiet; read at every request. */
  quietAfterMinutes: () => number;
}

/** Since when a camera that is up has seen no object (ISO), once that is longer than the limit; else null. */
function quietSince(camera: CameraStatus, lastObject: number | undefined, now: number, afterMinutes: number): string | null {
  if (camera.state !== 'up' || camera.upSince === null) return null;
  const since = Math.max(camera.upSince, lastObject ?? 0);
  return now - since >= afterMinutes * 60_000 ? new Date(since).toISOString() : null;
}

export function registerCameraRoutes(app: FastifyInstance, deps: CameraApiDeps): void {
  // What the page needs to know about the box once: its clock, its cameras, its vocabulary.
  app.get('/api/info', async (): Promise<BoxInfoJson> => ({
    version: deps.version,
    time_zone: deps.timeZone(),
    live: deps.live,
    labels: deps.labels,
    colours: PALETTE,
    cameras: deps.cameras().map((c) => ({ name: c.name, location: c.location })),
    place_names: deps.placeNames(),
  }));

  app.get('/api/cameras', async (): Promise<CamerasJson> => ({
    now: new Date().toISOString(),
    time_zone: deps.timeZone(),
    live: deps.live,
    cameras: await cameraRows(deps),
  }));
}

/** Each camera's health and today's events, as the Cameras screen shows them (and a hub collects). */
export async function cameraRows(deps: Pick<CameraApiDeps, 'cameras' | 'store' | 'timeZone' | 'quietAfterMinutes'>, now = new Date()): Promise<CameraRowJson[]> {
  const zone = deps.timeZone();
  const midnight = localInstant(localDate(now, zone), 0, zone);
  const today = await deps.store.countByCamera(midnight.getTime());
  const statuses = deps.cameras();
  const lastObjects = await Promise.all(statuses.map((c) => deps.store.lastObjectAt(c.name)));
  return statuses.map((c, i) => {
    const lastObject = lastObjects[i];
    return {
      name: c.name,
      location: c.location,
      state: c.state,
      fps: Math.round(c.fps * 10) / 10,
      last_frame_age_s: c.lastFrameAgeS === null ? null : Math.round(c.lastFrameAgeS * 10) / 10,
      restarts: c.restarts,
      last_error: c.lastError,
      events_today: today.get(c.name) ?? 0,
      last_object_at: lastObject === undefined ? null : new Date(lastObject).toISOString(),
      // Up and streaming, yet no person or vehicle for a long time: the officer should know before trusting
      // an empty search (a view from straight above, a lens fogged up, a threshold too strict).
      quiet_since: quietSince(c, lastObject, now.getTime(), deps.quietAfterMinutes()),
    };
  });
}
