// CURVE keys as operators handle them: Z85 text (ZeroMQ RFC 32), 40 characters for 32 bytes. Pure code, no
// zeromq: the config schema checks keys with it, and `vigil config check` must not need the native module.
import { createPrivateKey, createPublicKey } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** The 32 bytes a 40-character Z85 key stands for, or undefined when it is not one. */
export function z85DecodeKey(text: string): Buffer | undefined {
  if (text.length !== 40) return undefined;
  const out = Buffer.alloc(32);
  for (let group = 0; group < 8; group++) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const digit = VALUE.get(text[group * 5 + i]!);
      if (digit === undefined) return undefined;
      value = value * 85 + digit;
    }
    // Five base-85 digits reach past 2^32: such a group encodes no 4 bytes.
    if (value > 0xffffffff) return undefined;
    out.writeUInt32BE(value, group * 4);
  }
  return out;
}

export function z85EncodeKey(key: Buffer): string {
  if (key.length !== 32) throw new Error(`a CURVE key has 32 bytes, not ${key.length}`);
  let text = '';
  for (let offset = 0; offset < 32; offset += 4) {
    let value = key.readUInt32BE(offset);
    let group = '';
    for (let i = 0; i < 5; i++) {
      group = ALPHABET[value % 85]! + group;
      value = Math.floor(value / 85);
    }
    text += group;
  }
  return text;
}

export const isZ85Key = (text: string): boolean => z85DecodeKey(text) !== undefined;

// PKCS#8 header of a raw X25519 private key (RFC 8410): CURVE keys are X25519 keys, so Node's crypto can
// derive the public half and catch a public_key pasted from another pair than its secret_key.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The Z85 public key that belongs to a Z85 secret key, or undefined when the secret is not a key. */
export function curvePublicKeyOf(secretKey: string): string | undefined {
  const secret = z85DecodeKey(secretKey);
  if (!secret) return undefined;
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return z85EncodeKey(spki.subarray(spki.length - 32));
}
