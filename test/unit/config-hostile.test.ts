// Config files written by mistake or by an attacker: every one is refused with a ConfigError naming the file
// (exit 2 on the command line, a refused reload in the daemon), never a stack trace, never a leaked secret.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, MAX_CONFIG_BYTES, parseConfig } from '../../src/config/load.js';
import { runCli } from '../harness/daemon-process.js';
import { configRefusal as refusal } from '../harness/config-refusal.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-hostile-'));
const CAMERA = 'cameras: [{ name: a, url: "rtsp://127.0.0.1:1/x", location: yard }]\n';

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

const ALIAS_BOMB = `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
${CAMERA}`;

// Deepest block nesting that fits in the size limit: each level is one line, one space more indented.
const deepBlock = (levels: number) => Array.from({ length: levels }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';

const HOSTILE: Record<string, string> = {
  'alias-bomb': ALIAS_BOMB,
  'deep-flow-list': `cameras: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`,
  'deep-flow-map': `data_dir: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n${CAMERA}`,
  'deep-in-a-camera': `cameras: [{ name: a, location: b, url: ${'['.repeat(5000)}${']'.repeat(5000)} }]\n`,
  'deep-block': deepBlock(1400),
  'unclosed-deep-flow': `cameras: ${'[{a: '.repeat(100_000)}\n`,
};

describe('hostile config text', () => {
  it('refuses an alias bomb without expanding it', () => {
    const started = performance.now();
    const err = refusal(() => parseConfig(ALIAS_BOMB, '/etc/vigil/bomb.yaml'));
    expect(err.message).toMatch(/^config \/etc\/vigil\/bomb\.yaml is invalid:/);
    expect(err.problems).toEqual([{ path: '', message: expect.stringContaining('alias bomb') }]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('refuses nesting thousands of levels deep with one plain message, not a RangeError', () => {
    for (const [name, text] of Object.entries(HOSTILE)) {
      if (name === 'alias-bomb') continue;
      const err = refusal(() => parseConfig(text, `/etc/vigil/${name}.yaml`));
      expect(err.problems.length, name).toBeLessThanOrEqual(11);
      expect(err.message, name).not.toMatch(/\n\s+at /);
    }
    expect(refusal(() => parseConfig(HOSTILE['deep-flow-list']!, '/x.yaml')).problems).toEqual([
      { path: '', message: 'YAML nested more than 64 levels deep (line 1); a vigil config needs fewer than 10 levels' },
    ]);
    // Block nesting has no brackets to count: the parser's own stack overflow becomes the same kind of message.
    expect(refusal(() => parseConfig(HOSTILE['deep-block']!, '/x.yaml')).problems).toEqual([
      { path: '', message: expect.stringContaining('YAML nested too deeply') },
    ]);
    // Brackets in quotes and comments do not count.
    const brackets = '['.repeat(100);
    expect(parseConfig(`# ${brackets}\ncameras: [{ name: a, url: "rtsp://h/${brackets}", location: '${brackets}' }]\n`, '/x.yaml').config.cameras).toHaveLength(1);
  });

  it('accepts anchors and aliases used the ordinary way', () => {
    const { config } = parseConfig(`cameras:
  - { name: a, url: "rtsp://h/1", location: yard, zones: &z [{ name: crossing, polygon: [[0, 0], [1, 0], [1, 1]] }] }
  - { name: b, url: "rtsp://h/2", location: yard, zones: *z }
`, '/x.yaml');
    expect(config.cameras[1]!.zones[0]!.name).toBe('crossing');
  });

  it('turns any text at all into a config or a ConfigError (random)', () => {
    const yamlish = fc.array(fc.constantFrom('cameras:', ' - ', '[', ']', '{', '}', '&a ', '*a', '!!binary ', '!tag ', '<<: ', '? ', ': ',
      '"', "'", '#', '\n', '  ', 'name: a', 'url: rtsp://x/y', 'location: b', '---\n', '...\n', '%YAML 1.1\n', '|\n', '>-\n', '\t', '\\u0000'), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(yamlish, fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 })), (text) => {
        try {
          parseConfig(text, '/fuzz.yaml');
        } catch (err) {
          expect(err, String((err as Error).stack)).toBeInstanceOf(ConfigError);
        }
      }),
      { seed: 7, numRuns: 2000 },
    );
  });
});

describe('hostile config files', () => {
  it('checks the size before reading: over 1 MiB is refused, naming the size and the limit', () => {
    const big = write('big.yaml', CAMERA + `# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    expect(refusal(() => loadConfig(big)).problems).toEqual([
      { path: '', message: 'the file is 3 MiB; a config file may be at most 1 MiB (is it the right file?)' },
    ]);
    const exact = write('exact.yaml', CAMERA + `#${'x'.repeat(MAX_CONFIG_BYTES - CAMERA.length - 2)}\n`);
    expect(loadConfig(exact).config.cameras).toHaveLength(1);
  });

  it('reads devices and pipes only up to the limit', () => {
    expect(refusal(() => loadConfig('/dev/zero')).problems[0]!.message).toContain('over the 1 MiB a config file may be');
  });

  it('refuses a directory, a missing file, binary junk and text that is not UTF-8', () => {
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder);
    expect(refusal(() => loadConfig(folder))).toMatchObject({ file: folder, problems: [{ path: '', message: 'is a directory, not a config file' }] });
    expect(refusal(() => loadConfig(path.join(dir, 'nope.yaml'))).problems[0]!.message).toBe('no such file: check the path (relative paths are from the current folder), or run without --config for the demo');
    const junk = Buffer.from(fc.sample(fc.integer({ min: 0, max: 255 }), { numRuns: 4096, seed: 3 }));
    junk[100] = 0;
    expect(refusal(() => loadConfig(write('junk.bin', junk))).problems[0]!.message).toMatch(/^binary data \(a NUL byte at byte \d+\)/);
    expect(refusal(() => loadConfig(write('latin1.yaml', Buffer.from('cameras: [{ name: caf\xe9 }]', 'latin1')))).problems[0]!.message)
      .toBe('not UTF-8 text: is it the right file?');
  });

  it('never quotes a long value whole', () => {
    const err = refusal(() => parseConfig(`data_dir: [x]\ntime_zone: 5\ncameras: "${'y'.repeat(5000)}"\n`, '/x.yaml'));
    expect(err.message.length).toBeLessThan(1000);
  });
});

describe('config secrets in error messages', () => {
  const secret = 'Typo5ecretValue';
  it('never echoes a mistyped camera URL\'s credentials', () => {
    for (const url of [`rtsp:/admin:${secret}@10.0.0.5/x`, `rtsp:admin:${secret}@10.0.0.5/x`, `rtsp//admin:${secret}@10.0.0.5/x`,
      `rtsp;//admin:${secret}@10.0.0.5/x`, `RTSP:\\\\admin:${secret}@10.0.0.5/x`, `srt:/10.0.0.5:9000?passphrase=${secret}`,
      `http:/cam/snap.cgi?user=admin&pwd=${secret}`, `ftp://admin:${secret}@cam/x`, `admin:${secret}@10.0.0.5/x`,
      `rtsp:/admin:${secret} with space@10.0.0.5/x`]) {
      const err = refusal(() => parseConfig(`cameras: [{ name: a, url: ${JSON.stringify(url)}, location: y }]`, '/x.yaml'));
      expect(err.problems, url).toEqual([{ path: 'cameras[0].url', message: expect.any(String) }]);
      expect(err.message, url).not.toContain(secret);
      expect(err.message, url).not.toContain('admin');
    }
    const typo = refusal(() => parseConfig(`cameras: [{ name: a, url: "rtsp:/admin:${secret}@10.0.0.5/x", location: y }]`, '/x.yaml'));
    expect(typo.problems[0]!.message).toBe('rtsp:/***@10.0.0.5/x is not a valid URL: it must start with "rtsp://" (a colon and two slashes)');
  });

  it('never echoes a token or a URL typed into the wrong place', () => {
    const token = 'S3cr3tTokenValue0123456789';
    for (const yaml of [
      `${CAMERA}api: { tokens: ["${token}"] }`,
      `${CAMERA}api: { tokens: [{ name: ops, token: 12345 }], token: "${token}" }`,
      `${CAMERA}api: { tokens: [{ name: ops, tokn: "${token}" }] }`,
      `cameras: [{ name: a, location: y, url: "rtsp://h/x", "rtsp://admin:${token}@h/x": 1 }]`,
      `cameras: [{ name: a, location: y, url: "rtsp://h/x?passphrase=${token}", detect: "srt://h?passphrase=${token}" }]`,
    ]) {
      const err = refusal(() => parseConfig(yaml, '/x.yaml'));
      expect(err.message, yaml).not.toContain(token);
    }
  });

  it('refuses duplicate token names and one token under two names, without printing the token', () => {
    const token = 'S3cr3tTokenValue0123456789';
    const err = refusal(() => parseConfig(`${CAMERA}api:
  tokens:
    - { name: ops, token: ${token} }
    - { name: desk, token: another-token-0123456789 }
    - { name: ops, token: third-token-0123456789 }
    - { name: night, token: ${token} }
`, '/x.yaml'));
    expect(err.problems).toEqual([
      { path: 'api.tokens[2].name', message: expect.stringContaining('duplicate token name "ops" (also api.tokens[0].name)') },
      { path: 'api.tokens[3].token', message: 'the same token as api.tokens[0] ("ops"); give each name its own token' },
    ]);
    expect(err.message).not.toContain(token);
  });
});

describe('vigil config check on hostile files', () => {
  it('exits 2 with a one-screen message naming the file, never a stack trace', async () => {
    const folder = path.join(dir, 'cli-folder');
    mkdirSync(folder, { recursive: true });
    const files = [
      ...['alias-bomb', 'deep-flow-list', 'deep-block'].map((name) => write(`${name}-cli.yaml`, HOSTILE[name]!)),
      write('big-cli.yaml', `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`),
      write('junk-cli.bin', Buffer.from(fc.sample(fc.integer({ min: 0, max: 255 }), { numRuns: 2048, seed: 5 }))),
      write('typo-cli.yaml', 'cameras: [{ name: a, url: "rtsp:/admin:Typo5ecret@10.0.0.5/x", location: y }]\n'),
      folder,
      '/dev/zero',
    ];
    for (const file of files) {
      const result = await runCli(['config', 'check', '--config', file]);
      expect(result.code, `${file}: ${result.stderr}`).toBe(2);
      expect(result.stdout, file).toBe('');
      expect(result.stderr, file).toContain(`config ${file} is invalid:`);
      expect(result.stderr, file).not.toMatch(/\n\s+at |Error:|Typo5ecret/);
      expect(result.stderr.split('\n').length, file).toBeLessThan(20);
    }
  });

  it('prints the config with secrets as ***, then an OK line; --show-secrets shows them', async () => {
    const file = write('good.yaml', `data_dir: ./data
cameras:
  - { name: a, url: "rtsp://viewer:Pa55-w0rd@127.0.0.1:1/x", location: y }
  - { name: b, url: "srt://127.0.0.1:2?passphrase=S3cr3tPassphrase&latency=120", location: y, enabled: false }
api: { tokens: [{ name: ops, token: S3cr3tApiToken-0123456789 }] }
`);
    const check = await runCli(['config', 'check', '--config', file]);
    expect(check.code, check.stderr).toBe(0);
    const lines = check.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(`OK: 2 cameras (1 enabled), ffmpeg bundled, data_dir ${path.join(dir, 'data')}`);
    const config = JSON.parse(lines.slice(0, -1).join('\n'));
    expect(config.cameras.map((c: { url: string }) => c.url)).toEqual(['rtsp://***@127.0.0.1:1/x', 'srt://127.0.0.1:2?passphrase=***&latency=120']);
    expect(config.api.tokens).toEqual([{ name: 'ops', token: '***', scopes: ['read'] }]);
    expect(check.stdout + check.stderr).not.toMatch(/Pa55-w0rd|S3cr3t/);

    const shown = await runCli(['config', 'check', '--config', file, '--show-secrets']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('rtsp://viewer:Pa55-w0rd@127.0.0.1:1/x');
    expect(shown.stdout).toContain('S3cr3tApiToken-0123456789');
    expect(shown.stderr).toContain('--show-secrets');
  });
});
