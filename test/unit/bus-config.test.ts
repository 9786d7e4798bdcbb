// bus: in the config: the bus may leave loopback only with CURVE, and CURVE keys are checked as keys (Z85,
// the public half of the secret) before the daemon ever starts.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { curveKeyPair } from 'zeromq';
import { describe, expect, it } from 'vitest';
import { curvePublicKeyOf, isZ85Key, z85DecodeKey, z85EncodeKey } from '../../src/config/z85.js';
import { parseConfig } from '../../src/config/load.js';
import { BusSchema, isLoopbackEndpoint } from '../../src/config/schema.js';
import { configProblems } from '../harness/config-refusal.js';

const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vigil-bus-config-')), 'vigil.yaml');
const server = curveKeyPair();
const client = curveKeyPair();
const curve = { public_key: server.publicKey, secret_key: server.secretKey, clients: [client.publicKey] };

const yaml = (bus: string) => `
cameras: [{ name: market-east, url: "rtsp://10.0.0.5/stream2", location: market }]
bus: ${bus}
`;

const problems = (text: string) => configProblems(text, file);

describe('bus.publish and bus.curve', () => {
  it('defaults to loopback without CURVE', () => {
    expect(BusSchema.parse({})).toEqual({ publish: 'tcp://127.0.0.1:5556', curve: null });
    expect(parseConfig(yaml('{}'), file).config.bus).toEqual({ publish: 'tcp://127.0.0.1:5556', curve: null });
  });

  it('accepts endpoints only this machine reaches without CURVE', () => {
    for (const endpoint of ['tcp://127.0.0.1:5556', 'tcp://127.1.2.3:7000', 'tcp://localhost:5556', 'tcp://[::1]:5556', 'tcp://127.0.0.1:*', 'ipc:///run/vigil/bus', 'inproc://bus']) {
      expect(isLoopbackEndpoint(endpoint), endpoint).toBe(true);
      expect(BusSchema.safeParse({ publish: endpoint }).success, endpoint).toBe(true);
    }
    expect(BusSchema.parse({ publish: null })).toEqual({ publish: null, curve: null });
  });

  it('refuses an endpoint the network reaches without CURVE, naming bus.curve and the loopback fix', () => {
    for (const endpoint of ['tcp://0.0.0.0:5556', 'tcp://*:5556', 'tcp://10.20.1.2:5556', 'tcp://eth0:5556', 'tcp://[::]:5556', 'tcp://128.0.0.1:5556', 'tcp://127.0.0.1.example.com:5556', 'tcp://vigil.lan:5556']) {
      expect(isLoopbackEndpoint(endpoint), endpoint).toBe(false);
      const found = problems(yaml(`{ publish: "${endpoint}" }`));
      expect(found, endpoint).toHaveLength(1);
      expect(found[0]!.path).toBe('bus.publish');
      expect(found[0]!.message).toContain(endpoint);
      expect(found[0]!.message).toContain('tcp://127.0.0.1:PORT');
      expect(found[0]!.message).toContain('bus.curve');
      expect(found[0]!.message).toContain('vigil bus keys');
    }
  });

  it('accepts any endpoint with CURVE keys', () => {
    const { config } = parseConfig(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve })), file);
    expect(config.bus).toEqual({ publish: 'tcp://0.0.0.0:5556', curve });
  });

  it('refuses keys that are not 40-character Z85, naming the field', () => {
    const bad = ['', 'short', server.publicKey.slice(0, 39), server.publicKey + 'x', 'a'.repeat(39) + '"', 'é'.repeat(40),
      // Five Z85 digits can reach past 2^32: "#####" is no 4 bytes.
      '#####' + server.publicKey.slice(5)];
    for (const key of bad) {
      const found = problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: { ...curve, clients: [key] } })));
      expect(found.map((p) => p.path), key).toEqual(['bus.curve.clients[0]']);
      expect(found[0]!.message).toMatch(/^must be a CURVE key: 40 characters of Z85 text/);
      expect(found[0]!.message).toContain('vigil bus keys');
      expect(found[0]!.message, 'the value itself is never echoed').not.toContain(key || '""');
    }
    const secret = problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: { ...curve, secret_key: 'not-a-key' } })));
    expect(secret.map((p) => p.path)).toEqual(['bus.curve.secret_key']);
    expect(secret[0]!.message).not.toContain('not-a-key');
  });

  it('refuses a public key that is not the secret key\'s other half, and an empty client list', () => {
    const swapped = problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: { ...curve, public_key: client.publicKey } })));
    expect(swapped).toHaveLength(1);
    expect(swapped[0]!.path).toBe('bus.curve.public_key');
    expect(swapped[0]!.message).toContain('bus.curve.secret_key');
    const none = problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: { ...curve, clients: [] } })));
    expect(none.map((p) => p.path)).toEqual(['bus.curve.clients']);
    expect(none[0]!.message).toContain('at least one subscriber');
  });

  it('refuses unknown keys under bus.curve and a missing secret', () => {
    const typo = problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: { ...curve, client: [client.publicKey] } })));
    expect(typo[0]).toMatchObject({ path: 'bus.curve', message: expect.stringContaining('did you mean "clients"') });
    const { secret_key: _, ...noSecret } = curve;
    expect(problems(yaml(JSON.stringify({ publish: 'tcp://0.0.0.0:5556', curve: noSecret }))).map((p) => p.path)).toContain('bus.curve.secret_key');
  });
});

describe('Z85 keys', () => {
  it('decode and encode as libzmq does, and derive the public key from the secret', () => {
    for (let i = 0; i < 20; i++) {
      const pair = curveKeyPair();
      expect(isZ85Key(pair.publicKey) && isZ85Key(pair.secretKey)).toBe(true);
      expect(z85DecodeKey(pair.secretKey)).toHaveLength(32);
      expect(z85EncodeKey(z85DecodeKey(pair.publicKey)!)).toBe(pair.publicKey);
      expect(curvePublicKeyOf(pair.secretKey)).toBe(pair.publicKey);
    }
    // RFC 32's test vector.
    expect(z85EncodeKey(Buffer.concat([Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]), Buffer.alloc(24)])).slice(0, 10)).toBe('HelloWorld');
  });
});
