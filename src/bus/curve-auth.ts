// The ZAP handler (ZeroMQ RFC 27) that admits only the subscribers listed in bus.curve.clients. A CURVE
// server without one lets any client that knows the server's public key in, so encryption alone would
// not keep anyone off the bus: libzmq asks the socket bound to inproc://zeromq.zap.01 in the same context
// about every handshake, and this answers 200 for a listed key and 400 for anything else.
import { Router, type Context } from 'zeromq';
import { z85DecodeKey, z85EncodeKey } from '../config/z85.js';

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export class CurveAuthenticator {
  private readonly router: Router;
  private readonly allowed: ReadonlySet<string>;
  private readonly loop: Promise<void>;

  private constructor(
    clients: readonly string[],
    context: Context,
    private readonly refused: (reason: string) => void,
  ) {
    // Keys are compared in one spelling: the Z85 text of the 32 bytes, as libzmq hands them over.
    this.allowed = new Set(clients.map((key) => z85EncodeKey(z85DecodeKey(key)!)));
    this.router = new Router({ context, linger: 0 });
    this.loop = this.answer();
  }

  /** Binds the handler; call it before the CURVE socket binds, or early handshakes go unchecked. */
  static async start(clients: readonly string[], context: Context, refused: (reason: string) => void): Promise<CurveAuthenticator> {
    const auth = new CurveAuthenticator(clients, context, refused);
    await auth.router.bind(ZAP_ENDPOINT);
    return auth;
  }

  async close(): Promise<void> {
    this.router.close();
    await this.loop;
  }

  private async answer(): Promise<void> {
    try {
      for await (const frames of this.router) {
        // [routing id, empty delimiter, version, request id, domain, address, identity, mechanism, credentials...]
        const [id, delimiter, version, requestId, , , , mechanism, key] = frames;
        if (!id || !delimiter || !requestId) continue; // not a ZAP request: nothing to answer to
        const [status, text] = this.decide(version?.toString(), mechanism?.toString(), key);
        await this.router.send([id, delimiter, '1.0', requestId, status, text, status === '200' ? z85EncodeKey(key!) : '', '']);
      }
    } catch (err) {
      // A handler that stops answering would leave every handshake hanging: let the bus process die of
      // it, and the daemon start another.
      if (!this.router.closed) throw err;
    }
  }

  private decide(version: string | undefined, mechanism: string | undefined, key: Buffer | undefined): [string, string] {
    if (version !== '1.0') return ['500', 'unsupported ZAP version'];
    if (mechanism !== 'CURVE' || key?.length !== 32) {
      this.refused('not CURVE');
      return ['400', 'CURVE required'];
    }
    if (!this.allowed.has(z85EncodeKey(key))) {
      this.refused('unknown client key');
      return ['400', 'client key not in bus.curve.clients'];
    }
    return ['200', 'OK'];
  }
}
