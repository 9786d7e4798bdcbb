// The hub's side of a box's replication routes: HTTP with the box's replicate token, every request bounded in
// time, every failure naming the box and what was asked. The box stays the source of truth; this only reads.
import type { BoxStatusJson, ChangesJson } from '../contract/types.js';

export class BoxRequestError extends Error {
  constructor(
    readonly box: string,
    message: string,
    /** The box's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(`box ${box}: ${message}`);
    this.name = 'BoxRequestError';
  }
}

export interface BoxEndpoint {
  name: string;
  url: string;
  token: string;
}

/** The most one snapshot may take: a 4K frame JPEG is a few MB. */
const MAX_ATTACHMENT_BYTES = 32 * 1024 * 1024;

export class BoxClient {
  private readonly base: string;

  constructor(
    private readonly box: BoxEndpoint,
    private readonly timeoutMs: number,
  ) {
    this.base = box.url.replace(/\/+$/, '');
  }

  get name(): string {
    return this.box.name;
  }

  changes(after: number, limit: number): Promise<ChangesJson> {
    return this.json<ChangesJson>(`/api/changes?after=${after}&limit=${limit}`);
  }

  status(): Promise<BoxStatusJson> {
    return this.json<BoxStatusJson>('/api/box');
  }

  /** A snapshot's bytes, or null when the box no longer has it (404); a 409 (changed on the box) throws. */
  async attachment(sha256: string): Promise<Buffer | null> {
    const response = await this.fetch(`/api/attachments/${sha256}`);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) throw await this.refusal(response, `snapshot ${sha256}`);
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_ATTACHMENT_BYTES) {
      await response.body?.cancel();
      throw new BoxRequestError(this.box.name, `snapshot ${sha256} is ${length} bytes, more than any snapshot`);
    }
    return Buffer.from(await response.arrayBuffer());
  }

  /** The box's live route as a WebSocket URL, with the headers that authorise the hub. */
  liveSocket(camera: string): { url: string; headers: Record<string, string> } {
    return { url: `${this.base.replace(/^http/, 'ws')}/api/live/${encodeURIComponent(camera)}`, headers: { authorization: `Bearer ${this.box.token}` } };
  }

  async liveStatus(camera: string): Promise<unknown> {
    return this.json(`/api/live/${encodeURIComponent(camera)}/status`);
  }

  private async json<T>(route: string): Promise<T> {
    const response = await this.fetch(route);
    if (!response.ok) throw await this.refusal(response, route);
    try {
      return (await response.json()) as T;
    } catch (err) {
      throw new BoxRequestError(this.box.name, `${route}: the answer is not JSON (${(err as Error).message})`);
    }
  }

  private async fetch(route: string): Promise<Response> {
    try {
      return await fetch(`${this.base}${route}`, {
        headers: { authorization: `Bearer ${this.box.token}` },
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new BoxRequestError(this.box.name, `${route}: ${why} (${this.base})`);
    }
  }

  private async refusal(response: Response, what: string): Promise<BoxRequestError> {
    let detail = '';
    try {
      detail = ((await response.json()) as { error?: string }).error ?? '';
    } catch {
      // not JSON
    }
    const hint = response.status === 401 || response.status === 403 ? ': check boxes[].token (the box needs it in api.tokens with scopes [replicate])' : '';
    return new BoxRequestError(this.box.name, `${what}: HTTP ${response.status}${detail ? ` (${detail})` : ''}${hint}`, response.status);
  }
}
