// The live view's routes: GET /api/live/:camera upgrades to a WebSocket that carries the camera's MPEG-TS
// to a JSMpeg player, and GET /api/live/:camera/status says what that stream is doing (connecting,
// playing, retrying and why), which the page polls: JSMpeg would feed a text frame to its demuxer.
// Authentication is the /api onRequest hook's (src/api/auth.ts); the session cookie rides along on the
// WebSocket upgrade, which is why the Origin is checked here.
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { LIVE_CLOSE, type AttachResult, type LiveStatus } from '../live/live-view.js';
import type { WebSocket } from 'ws';
import type { MaybePromise } from '../events/event-queries.js';
import { isSameOrigin, type ApiAuth } from './auth.js';
import { notFound } from './http-error.js';

/** What serves a live view: the box's own transcoders (LiveView), or a hub's relay to the box (hub/live-relay.ts). */
export interface LiveSource {
  attach(camera: string, socket: WebSocket): AttachResult;
  liveStatus(camera: string): MaybePromise<LiveStatus | undefined>;
}

interface CameraParams {
  camera: string;
}

export async function registerLiveRoutes(app: FastifyInstance, live: LiveSource, auth?: ApiAuth): Promise<void> {
  if (!app.hasDecorator('websocketServer')) {
    // Viewers only receive; a viewer sending more than a close frame's worth is not a JSMpeg player.
    await app.register(websocket, { options: { maxPayload: 1024 } });
  }

  // A hub relays a box's live view to its own signed-in officers with its replicate token.
  const scopes = { scopes: ['read' as const, 'replicate' as const] };
  app.get<{ Params: CameraParams }>('/api/live/:camera', { websocket: true, config: scopes }, (socket, request) => {
    if (!isSameOrigin(request)) {
      // Another site's page would be watching with the officer's session cookie.
      socket.close(LIVE_CLOSE.forbiddenOrigin, 'cross-origin live view refused');
      return;
    }
    // Unknown camera: 4404; disabled: 4409 (LiveView closes the socket itself).
    if (live.attach(request.params.camera, socket) !== 'attached' || !auth) return;
    // The socket outlives the request that authorised it: it must not outlive the credential.
    const unwatch = auth.watch(request, () => socket.close(LIVE_CLOSE.revoked, 'credential revoked: sign in again'));
    socket.once('close', unwatch);
  });

  app.get<{ Params: CameraParams }>('/api/live/:camera/status', { config: scopes }, async (request) => {
    const status = await live.liveStatus(request.params.camera);
    if (!status) throw notFound(`unknown camera: ${request.params.camera}`);
    return status;
  });
}
