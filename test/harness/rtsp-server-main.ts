// Child-process entry of the test RTSP server:
//   node --import tsx test/harness/rtsp-server-main.ts --port 0 --mount cam1=clip.h264@25 [--auth user:pass]
// Prints "listening PORT" once it accepts connections.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseH264 } from './h264.js';
import { RtspTestServer, type Mount } from './rtsp-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    mount: { type: 'string', multiple: true, default: [] },
    auth: { type: 'string' },
  },
});
const mounts: Record<string, Mount> = {};
for (const spec of values.mount) {
  const m = /^([^=]+)=(.+)@([\d.]+)$/.exec(spec);
  if (!m) throw new Error(`bad --mount ${spec}: expected name=file.h264@fps`);
  mounts[m[1]!] = { stream: parseH264(readFileSync(m[2]!)), fps: Number(m[3]) };
}
const [user, pass] = values.auth ? values.auth.split(':') : [];
const server = new RtspTestServer({
  port: Number(values.port),
  mounts,
  ...(user !== undefined && pass !== undefined ? { auth: { user, pass } } : {}),
});
const port = await server.start();
process.stdout.write(`listening ${port}\n`);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void server.stop().then(() => process.exit(0)));
