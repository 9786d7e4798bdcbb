// npm run demo:station: a whole station on this machine, to see what a hub does before setting one up. A
// PostgreSQL cluster of its own in data/station/postgres (Debian's server binaries; kept between runs), two boxes
// playing the demo clip as two cameras each would, and a hub over both; it prints the hub's address and token and
// runs until Ctrl-C, then stops everything it started. Every port is on 127.0.0.1.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalPostgres } from './hub/local-postgres.js';
import { PROJECT_ROOT } from './version.js';

const DEMO_CLIP = path.join(PROJECT_ROOT, 'config', 'demo', 'campus.mp4');
const LAUNCHER = path.join(PROJECT_ROOT, 'bin', 'vigil');

interface Tokens {
  officer: string;
  hub: string;
}

/** The demo's tokens: made once, kept in data/station/tokens.json so that a browser stays signed in across runs. */
function demoTokens(dir: string): Tokens {
  const file = path.join(dir, 'tokens.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Tokens;
  const tokens = { officer: randomBytes(16).toString('hex'), hub: randomBytes(16).toString('hex') };
  writeFileSync(file, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  return tokens;
}

function boxConfig(name: string, location: string, aliases: string[], port: number, busPort: number, tokens: Tokens): object {
  return {
    data_dir: './data',
    time_zone: 'Asia/Shanghai',
    cameras: [{ name: `${name}-cam`, url: DEMO_CLIP, location, aliases, detect: { width: 640, height: 480, fps: 5 } }],
    api: { host: '127.0.0.1', port, tokens: [{ name: 'officer', token: tokens.officer }, { name: 'hub', token: tokens.hub, scopes: ['replicate'] }] },
    bus: { publish: `tcp://127.0.0.1:${busPort}` },
    plates: { enabled: false },
  };
}

function launch(name: string, args: string[], children: ChildProcess[]): ChildProcess {
  const child = spawn(LAUNCHER, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}] `;
  // The JSON log lines stay in each part's log file; only problems reach the terminal.
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d.toString().split('\n').filter(Boolean).map((l) => prefix + l + '\n').join('')));
  children.push(child);
  return child;
}

function listening(child: ChildProcess, name: string, message: string, log: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 120 s; see ${log}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      writeFileSync(log, d, { flag: 'a' });
      text += d.toString();
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const record = JSON.parse(line) as { msg?: string; address?: string };
          if (record.msg === message && record.address) {
            clearTimeout(timer);
            resolve(record.address);
          }
        } catch {
          // a partial line
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}; see ${log}`));
    });
  });
}

async function main(): Promise<number> {
  const root = path.resolve(process.env.VIGIL_DEMO_DIR ?? path.join(PROJECT_ROOT, 'data', 'station'));
  const base = Number(process.env.VIGIL_DEMO_PORT ?? 8090);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const tokens = demoTokens(root);
  const children: ChildProcess[] = [];
  let postgres: LocalPostgres | undefined;
  const stopAll = async () => {
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? undefined
          : new Promise<void>((resolve) => {
              c.once('exit', () => resolve());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 12_000).unref();
            }),
      ),
    );
    await postgres?.stop('fast');
  };
  try {
    console.log(`station demo in ${root}: starting PostgreSQL on 127.0.0.1:${base + 10}`);
    postgres = await LocalPostgres.start(path.join(root, 'postgres'), base + 10);
    const boxes = [
      { name: 'north', location: 'school gate', aliases: ['学校', '校门'], port: base + 1, bus: base + 11 },
      { name: 'south', location: 'market', aliases: ['集市'], port: base + 2, bus: base + 12 },
    ];
    const addresses = await Promise.all(
      boxes.map((b) => {
        const dir = path.join(root, b.name);
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, 'vigil.yaml');
        writeFileSync(file, JSON.stringify(boxConfig(b.name, b.location, b.aliases, b.port, b.bus, tokens), null, 2) + '\n');
        return listening(launch(b.name, ['run', '--config', file], children), `box ${b.name}`, 'api listening', path.join(dir, 'vigil.log'));
      }),
    );
    const hubFile = path.join(root, 'hub.yaml');
    writeFileSync(
      hubFile,
      JSON.stringify(
        {
          database: { url: postgres.url() },
          boxes: boxes.map((b, i) => ({ name: b.name, url: addresses[i], token: tokens.hub, bus: { endpoint: `tcp://127.0.0.1:${b.bus}` } })),
          api: { host: '127.0.0.1', port: base, tokens: [{ name: 'officer', token: tokens.officer }] },
          data_dir: './hub-data',
          time_zone: 'Asia/Shanghai',
        },
        null,
        2,
      ) + '\n',
    );
    const hub = await listening(launch('hub', ['hub', '--config', hubFile], children), 'the hub', 'hub listening', path.join(root, 'hub.log'));
    console.log(`
The station runs: two boxes (north: ${addresses[0]}, south: ${addresses[1]}) and a hub over both.
  Open ${hub} and sign in with the token  ${tokens.officer}
  (the same token opens each box's own page). Search "person", or "学校 行人".
  Metrics: ${hub}/metrics   Logs: ${root}/{north,south}/vigil.log, ${root}/hub.log
Ctrl-C stops the boxes, the hub and PostgreSQL (their data stays in ${root}; delete it to start afresh).`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
      for (const c of children) c.once('exit', (code) => code !== 0 && resolve());
    });
    console.log('stopping the station demo');
    return 0;
  } catch (err) {
    console.error(`demo:station: ${(err as Error).message}`);
    return 1;
  } finally {
    await stopAll();
  }
}

main().then((code) => {
  process.exitCode = code;
});
