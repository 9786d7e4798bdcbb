// Redaction of camera URL credentials, by property: random URLs of every scheme vigil accepts, typos
// included, with random secrets in userinfo and query, inside random text. No secret may survive, and
// what is not secret (hosts, paths, harmless parameters, ffmpeg's message) stays readable.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HARMLESS_PARAMS, redactConfig, redactCredentials, redactUrl } from '../../src/config/redact.js';

const SEED = 4242;
const RUNS = 3000;

const SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'srt', 'udp', 'tcp'];
// '://' and the typos operators make: one slash, none, three, backslashes, no colon, a semicolon.
const SEPARATORS = ['://', '://', '://', ':/', ':', ':///', ':\\\\', '//', ';//'];
const FFMPEG_ENDINGS = [': Connection refused', ': Protocol not found', ': Server returned 404 Not Found', ': Input/output error'];
const SECRET_NAMES = ['passphrase', 'passwd', 'loginpas', 'apikey', 'access_token', 'streamid', 'user', 'password', 'pwd', 'key',
  'token', 'auth', 'sig', 'pin', 'pass', 'username', 'secret'];

// Secrets are upper-case runs joined by punctuation. Nothing else in these texts has two upper-case
// letters in a row, and the redactor only ever cuts at punctuation or spaces, so any leaked piece of a
// secret, however small, shows up as /[A-Z]{2,}/.
const INK = /[A-Z]{2,}/;
const harmlessUpper = new Set([...HARMLESS_PARAMS].map((n) => n.toUpperCase()));
const chunk = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 3, maxLength: 6 })
  // A secret holding "&channel=x" is two parameters to any URL parser: the name after '&' shows.
  .filter((c) => !harmlessUpper.has(c));
const secret = (specials: string) =>
  fc.tuple(chunk, fc.array(fc.tuple(fc.string({ unit: fc.constantFrom(...specials), minLength: 1, maxLength: 2 }), chunk), { minLength: 1, maxLength: 4 }))
    .map(([first, rest]) => 'S3cr3t' + first + rest.map(([s, c]) => s + c).join(''));

// Every character a password can hold, raw: '@', ':', '/', '?', '#', spaces, quotes...
const ANY = '@:/?#&=%+!$*(),;~.-_\'"[] \t\n';
const host = fc.tuple(fc.oneof(fc.ipV4(), fc.domain()), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
  .map(([h, port]) => (port === undefined ? h : `${h}:${port}`));
const urlPath = fc.array(fc.stringMatching(/^[a-z0-9_.-]{1,8}$/), { maxLength: 3 }).map((segments) => segments.map((s) => `/${s}`).join(''));
const secretName = fc.oneof(fc.constantFrom(...SECRET_NAMES), fc.stringMatching(/^[a-z][a-z0-9_]{0,9}$/)).filter((n) => !HARMLESS_PARAMS.has(n));
const harmlessParam = fc.record({
  name: fc.constantFrom(...HARMLESS_PARAMS),
  value: fc.stringMatching(/^[a-z0-9_.-]{1,8}$/),
  secret: fc.constant(false),
});

interface Url {
  scheme: string;
  separator: string;
  user?: string;
  password?: string;
  host: string;
  path: string;
  params: Array<{ name: string; value: string; secret: boolean }>;
  fragment?: string;
}

/**
 * URLs whose secrets draw on the given characters: `userinfo` for user and password, `query` for values.
 * Upper-case schemes (RTSP://) are left out where /[A-Z]{2,}/ looks for leaks.
 */
function url(chars: { userinfo: string; query: string; fragment: string }, upperSchemes = true): fc.Arbitrary<Url> {
  const secretParam = fc.record({ name: secretName, value: secret(chars.query), secret: fc.constant(true) });
  return fc.record({
    scheme: fc.tuple(fc.constantFrom(...SCHEMES), fc.boolean()).map(([s, upper]) => (upper && upperSchemes ? s.toUpperCase() : s)),
    separator: fc.constantFrom(...SEPARATORS),
    user: fc.option(secret(chars.userinfo), { nil: undefined }),
    password: fc.option(secret(chars.userinfo), { nil: undefined }),
    host,
    path: urlPath,
    params: fc.array(fc.oneof(harmlessParam, secretParam), { maxLength: 4 }),
    fragment: fc.option(secret(chars.fragment), { nil: undefined }),
  }, { requiredKeys: ['scheme', 'separator', 'host', 'path', 'params'] });
}

const hasUserinfo = (u: Url) => u.user !== undefined || u.password !== undefined;

function render(u: Url): string {
  const userinfo = hasUserinfo(u) ? `${u.user ?? ''}${u.password !== undefined ? `:${u.password}` : ''}@` : '';
  const query = u.params.length ? `?${u.params.map((p) => `${p.name}=${p.value}`).join('&')}` : '';
  return `${u.scheme}${u.separator}${userinfo}${u.host}${u.path}${query}${u.fragment !== undefined ? `#${u.fragment}` : ''}`;
}

/** What an operator should read: the URL with every secret replaced by ***. */
function expected(u: Url): string {
  const query = u.params.length ? `?${u.params.map((p) => `${p.name}=${p.secret ? '***' : p.value}`).join('&')}` : '';
  return `${u.scheme}${u.separator}${hasUserinfo(u) ? '***@' : ''}${u.host}${u.path}${query}${u.fragment !== undefined ? '#***' : ''}`;
}

const secretsOf = (u: Url) => [u.user, u.password, u.fragment, ...u.params.filter((p) => p.secret).map((p) => p.value)].filter((s): s is string => !!s);

function expectNoSecret(out: string, u: Url, input: string): void {
  for (const s of secretsOf(u)) expect(out, `${JSON.stringify(input)} → ${JSON.stringify(out)}`).not.toContain(s);
  expect(out, `${JSON.stringify(input)} → ${JSON.stringify(out)}`).not.toMatch(INK);
  expect(out).not.toContain('S3cr3t');
}

// Text around the URL: log and ffmpeg phrasing, or random words holding URL punctuation.
const noise = fc.string({ unit: fc.constantFrom(...'abcxyz019 .,[]():@?=&/#\''), maxLength: 20 });
const anyPrefix = fc.oneof(noise, fc.constantFrom('', 'open ', '[tcp @ 0x55d1] Connection to ', 'url=', "Input #0, rtsp, from '", 'Did you mean file:'));
const anySuffix = fc.oneof(noise, fc.constantFrom('', ' failed', "':", ...FFMPEG_ENDINGS), fc.constantFrom(...FFMPEG_ENDINGS).map((e) => ` failed${e}`));

describe('redactCredentials', () => {
  it('hides the credentials the old name list missed, and typos', () => {
    const cases: Array<[string, string]> = [
      ['srt://127.0.0.1:9000?passphrase=Pa55phrase-long&latency=200&pbkeylen=16', 'srt://127.0.0.1:9000?passphrase=***&latency=200&pbkeylen=***'],
      ['http://cam/cgi-bin/snap.cgi?loginuse=admin&loginpas=Secret99', 'http://cam/cgi-bin/snap.cgi?loginuse=***&loginpas=***'],
      ['http://cam/video.cgi?apikey=ABC123&passwd=x&channel=2&subtype=1', 'http://cam/video.cgi?apikey=***&passwd=***&channel=2&subtype=1'],
      ['https://relay/live?access_token=eyJhbGci.x.y: Server returned 403 Forbidden (access denied)', 'https://relay/live?access_token=***: Server returned 403 Forbidden (access denied)'],
      ['rtsp:/admin:Typo5ecret@10.0.0.5/x', 'rtsp:/***@10.0.0.5/x'],
      ['rtsp:admin:Typo5ecret@10.0.0.5/x', 'rtsp:***@10.0.0.5/x'],
      ['rtsp//admin:Typo5ecret@10.0.0.5/x', 'rtsp//***@10.0.0.5/x'],
      ['admin:Typo5ecret@10.0.0.5/x', '***@10.0.0.5/x'],
      ['open rtsp://admin:p@ss:w0rd@10.0.0.5:554/s2 now', 'open rtsp://***@10.0.0.5:554/s2 now'],
      ['rtsp://admin:my secret@10.0.0.5/x: Connection refused', 'rtsp://***@10.0.0.5/x: Connection refused'],
      ['srt://h:1?passphrase=three word phrase: Connection refused', 'srt://h:1?passphrase=***: Connection refused'],
      ['srt://h:1?passphrase=three word phrase and more', 'srt://h:1?passphrase=***'],
      ['http://h/x?password=p@ss&channel=1', 'http://***@***&channel=1'],
      ['rtsp://h:554/user=admin_password=tlJwpbo6_channel=1_stream=0.sdp', 'rtsp://h:554/user=***'],
      ['rtsp://h/x?stream=rtsp:pw=leak', 'rtsp://h/x?stream=***'],
      ['rtmp://h/live#token', 'rtmp://h/live#***'],
      ['GET /video.cgi?user=admin&pwd=Secret99&channel=1 HTTP/1.1', 'GET /video.cgi?user=***&pwd=***&channel=1 HTTP/1.1'],
      ['cam.local/snap.jpg?key=Secret99', 'cam.local/snap.jpg?key=***'],
      ['srt://127.0.0.1:1?streamid=#!::u=admin,r=live,s=Secret: Protocol not found', 'srt://127.0.0.1:1?streamid=#***: Protocol not found'],
    ];
    for (const [input, output] of cases) expect(redactCredentials(input), input).toBe(output);
  });

  it('leaves ffmpeg\'s own lines readable', () => {
    for (const line of [
      '[tcp @ 0x2985cc40] Connection to tcp://127.0.0.1:1?timeout=0 failed: Connection refused',
      'rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif: Connection refused',
      'Stream #0:0: Video: h264 (High), yuv420p(progressive), 1280x720, 25 fps',
      '[h264 @ 0x55d1] error while decoding MB 12 7, bytestream -5',
      'Did you mean file:srt://127.0.0.1:9000?',
      'Did you mean file:srt://127.0.0.1:9000?latency=200?',
    ]) expect(redactCredentials(line)).toBe(line);
    // '?' is data inside a query value, so ffmpeg's question mark goes with the passphrase.
    expect(redactCredentials('Did you mean file:srt://127.0.0.1:9000?passphrase=Pa55phrase-long?')).toBe('Did you mean file:srt://127.0.0.1:9000?passphrase=***');
  });

  it('lets no secret survive: any characters in secrets, typos, any text around (random)', () => {
    fc.assert(
      fc.property(url({ userinfo: ANY, query: ANY.replace('&', ''), fragment: ANY }, false), anyPrefix, anySuffix, (u, prefix, suffix) => {
        const input = prefix + render(u) + suffix;
        expectNoSecret(redactCredentials(input), u, input);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('keeps hosts, paths, parameter names, harmless values and ffmpeg\'s message readable (random)', () => {
    // Userinfo without spaces, '?' or '#', query values without '@' or spaces: the redactor can tell
    // exactly where each part ends, so the result is exact rather than merely safe.
    const clean = url({ userinfo: '@:/=&;%+!$*(),~.-_\'"[]', query: '?=/:%+!$*(),;~.-_\'"', fragment: ':/?#&=%+!$*(),;~.-_' });
    const prefix = fc.constantFrom('', 'open ', '[tcp @ 0x55d1] Connection to ', 'url=', 'camera failed: ', "Input #0, rtsp, from '");
    const suffix = fc.constantFrom('', ' (retrying)', ...FFMPEG_ENDINGS);
    fc.assert(
      fc.property(clean, prefix, suffix, (u, before, after) => {
        const input = before + render(u) + after;
        const out = redactCredentials(input);
        // A hidden value at the very end may run on past a space, unless ffmpeg's own message follows.
        const lastHidden = u.fragment !== undefined || u.params.at(-1)?.secret === true;
        const kept = !lastHidden || FFMPEG_ENDINGS.includes(after) ? after : '';
        expect(out, JSON.stringify(input)).toBe(before + expected(u) + kept);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('never throws and stays linear on hostile input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const once = redactCredentials(text);
        expect(redactCredentials(once)).toBe(once);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    for (const text of ['a://'.repeat(50_000), '@'.repeat(200_000), `rtsp://h?${'&'.repeat(200_000)}`, 'x=y&'.repeat(50_000),
      ' a@b'.repeat(50_000), `rtsp://h/x?${'a=b&'.repeat(50_000)} tail`, 'rtsp:'.repeat(40_000), `${'a '.repeat(100_000)}@`]) {
      const started = performance.now();
      redactCredentials(text);
      redactUrl(text);
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(1000);
    }
  });
});

describe('redactUrl', () => {
  it('treats the whole string as the URL: spaces and line breaks do not end a secret (random)', () => {
    fc.assert(
      fc.property(url({ userinfo: ANY, query: ANY.replace('&', ''), fragment: ANY }, false), (u) => {
        const input = render(u);
        expectNoSecret(redactUrl(input), u, input);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('gives the exact readable URL for ordinary ones, and leaves file paths alone (random)', () => {
    const clean = url({ userinfo: '@:/=&;%+!$*(),~.-_\'" ', query: '?=/:%+!$*(),;~.-_\'" ', fragment: ':/?#&=%+!$*(),;~.-_ ' });
    fc.assert(
      fc.property(clean, (u) => {
        expect(redactUrl(render(u))).toBe(expected(u));
      }),
      { seed: SEED, numRuns: RUNS },
    );
    for (const file of ['/srv/clips/market east.mp4', './clips/a=b;c.mp4', '/data/x?.mp4']) expect(redactUrl(file)).toBe(file);
    expect(redactUrl('cam.local/video.cgi?user=admin&pwd=Secret 99')).toBe('cam.local/video.cgi?user=***&pwd=***');
    expect(redactUrl('/etc/vigil/admin:Typo5ecret@10.0.0.5/x')).toBe('***@10.0.0.5/x');
  });
});

describe('redactConfig and CURVE keys', () => {
  it('shows public keys as written (Z85 has @ and :), and hides the secret key', () => {
    const publicKey = 'cZ)f+h{w+}hs%Qe9G<GX[8VPP9ZnfO@$k)6-?H0=';
    const client = 'ab:cd@ef+h{w+}hs%Qe9G<GX[8VPP9ZnfO@$k)6-?';
    const shown = redactConfig({ bus: { curve: { public_key: publicKey, secret_key: 'S3cr3t-key-material-0123456789abcdefghij', clients: [client] } } });
    expect(shown.bus.curve).toEqual({ public_key: publicKey, secret_key: '***', clients: [client] });
  });
});
