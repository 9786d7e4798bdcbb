// deploy/docker/Dockerfile, checked where no Docker engine runs (this machine and CI have only the client).
// The file is parsed and held to what the image promises (two stages, a non-root user, the daemon as entry
// point, a health check, a context without local junk), then its image is "built" as a file tree: the
// context .dockerignore lets through is copied, the build stage's npm RUNs are executed for real inside it,
// the runtime stage's COPY --from lines assemble its root, and the daemon is run from that root, as the
// image's user, against a test camera. That proves the runtime tree needs nothing the prune removed, that
// the models were built at image build time, and that what the runtime stage copies is all it needs.
// What it cannot prove: the base image's contents (its Node, glibc and libstdc++ stand in for this
// machine's, both Debian 12), the apt layer, and Docker running the HEALTHCHECK (its command is run here).
// About 2½ minutes, most of it `npm ci` compiling better-sqlite3. VIGIL_KEEP_IMAGE_TREE=1 keeps the tree.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argv, contextFiles, DockerIgnore, inContext, parseDockerfile, stageNamed, type Stage } from '../harness/dockerfile.js';
import { hostBaseEnv, ImageEmulator, treeSize, type TreeSize } from '../harness/image-tree.js';
import { testsrcClip } from '../harness/media.js';
import { sample } from '../harness/daemon-process.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { waitFor } from '../harness/wait.js';
import { DETECTOR_DEFAULTS } from '../../src/config/schema.js';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);
const DOCKERFILE = path.join(PROJECT_ROOT, 'deploy', 'docker', 'Dockerfile');
const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string; license: string; devDependencies: Record<string, string> };
const file = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const runtime = file.stages[file.stages.length - 1]!;
const build = stageNamed(file, 'build');
const ignore = DockerIgnore.read(PROJECT_ROOT);
const context = contextFiles(PROJECT_ROOT, ignore);
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The exec-form ENTRYPOINT + CMD, as `docker run IMAGE` starts it. */
function startCommand(stage: Stage): string[] {
  if (stage.entrypoint?.form !== 'exec' || stage.cmd?.form !== 'exec') throw new Error('ENTRYPOINT and CMD must be exec form (JSON)');
  return [...stage.entrypoint.argv, ...stage.cmd.argv];
}

describe('deploy/docker/Dockerfile', () => {
  it('builds in one stage and runs from another, both on one pinned Node 20 bookworm-slim base', () => {
    expect(file.stages.length).toBeGreaterThanOrEqual(2);
    expect(build.index).toBeLessThan(runtime.index);
    const bases = new Set(file.stages.map((s) => s.from));
    expect(bases.size).toBe(1);
    const [base] = bases;
    const m = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(base!);
    expect(m, `${base} should be node:20.x.y-bookworm-slim`).not.toBeNull();
    // The tree below is built and run by this machine's Node: the same major, so the same native ABI.
    expect(m![1]).toBe(process.versions.node.split('.')[0]);
    if (`${m![1]}.${m![2]}.${m![3]}` !== process.versions.node) console.log(`note: the image's Node is ${m![1]}.${m![2]}.${m![3]}, this machine's ${process.versions.node}`);
  });

  it('runs the daemon as a non-root user, with its health check, ports, data volume, stop signal and labels', () => {
    const user = runtime.user?.split(':')[0];
    expect(user, 'the runtime stage needs a USER').toBeTruthy();
    expect(['root', '0']).not.toContain(user);
    // The launcher, which preloads jemalloc (docs/operations.md "Memory") and execs node, so node still gets the signals.
    expect(startCommand(runtime)).toEqual(['/opt/vigil/bin/vigil', 'run', '--config', '/etc/vigil/vigil.yaml']);
    expect(runtime.workdir).toBe('/opt/vigil');
    expect(runtime.healthcheck, 'HEALTHCHECK').toBeTruthy();
    expect(argv(runtime.healthcheck!.command).join(' ')).toContain('http://127.0.0.1:8080/healthz');
    expect(runtime.expose).toEqual(expect.arrayContaining(['8080', '5556']));
    expect(runtime.volumes).toContain('/var/lib/vigil');
    expect(runtime.stopSignal).toBe('SIGTERM');
    expect(runtime.labels).toMatchObject({
      'org.opencontainers.image.title': 'vigil',
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.licenses': pkg.license,
    });
    expect(runtime.labels['org.opencontainers.image.base.name']).toBe(runtime.from);
    expect(runtime.env.NODE_ENV).toBe('production');
  });

  it('copies into the runtime stage only from the build stage, only what runs, owned by root', () => {
    const copies = runtime.steps.filter((s) => s.kind === 'copy');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      expect(c.from, `line ${c.line}`).toBe('build');
      // The daemon must not be able to change its own code or models.
      expect(c.chown, `line ${c.line}`).toBeUndefined();
    }
    const sources = copies.flatMap((c) => c.sources);
    expect(sources).toEqual(expect.arrayContaining(['/opt/vigil/package.json', '/opt/vigil/bin', '/opt/vigil/node_modules', '/opt/vigil/dist/src', '/opt/vigil/models', '/opt/vigil/src/web/static']));
    // Not the whole project, not the compiled tests and benchmarks, not the TypeScript sources.
    for (const s of ['/opt/vigil', '/opt/vigil/dist', '/opt/vigil/src']) expect(sources).not.toContain(s);
    // ffmpeg comes from node_modules: the runtime stage installs jemalloc and nothing else.
    const installed: string[] = [];
    for (const r of runtime.steps.filter((s) => s.kind === 'run')) {
      const text = r.command.form === 'shell' ? r.command.text : r.command.argv.join(' ');
      expect(text).not.toMatch(/npm /);
      for (const m of text.matchAll(/apt-get install((?:\s+[^\s&]+)+)/g)) installed.push(...m[1]!.trim().split(/\s+/).filter((w) => !w.startsWith('-')));
    }
    expect(installed).toEqual(['libjemalloc2']);
  });

  it('gets a build context with every tracked file and nothing generated or local', async () => {
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'src/web/app/tsconfig.json', 'models/manifest.json', 'deploy/docker/drop-foreign-binaries.mjs']) {
      expect(context, f).toContain(f);
    }
    const leaked = context.filter((f) => /^(node_modules|dist|data|\.git|\.cache|test-artifacts|scratch)\//.test(f) || /^models\/.*\.onnx$/.test(f));
    expect(leaked).toEqual([]);
    const tracked = await run('git', ['ls-files'], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 }).then((r) => r.stdout.split('\n').filter(Boolean), () => null);
    if (tracked) {
      const present = tracked.filter((f) => existsSync(path.join(PROJECT_ROOT, f)));
      expect(present.filter((f) => !context.includes(f))).toEqual([]);
    } else console.log('note: not a git checkout, tracked files not compared with the context');
    for (const stage of file.stages) {
      for (const c of stage.steps) {
        if (c.kind !== 'copy' || c.from !== undefined) continue;
        for (const s of c.sources) expect(inContext(context, s), `line ${c.line}: COPY ${s} is not in the build context`).toBe(true);
      }
    }
  });
});

describe('the image, built as a file tree without Docker and run', () => {
  let work = '';
  const hostNodePrefix = path.resolve(path.dirname(process.execPath), '..');
  const account = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  let emulator: ImageEmulator;
  let root = '';
  let npmPinned: string | undefined;
  let buildSeconds = 0;
  const sizes: Record<string, TreeSize & { du_kb?: number }> = {};
  let rtsp: RtspServerProcess | undefined;
  let daemon: ChildProcess | undefined;

  const image = (p: string) => path.join(root, p);
  // The data volume and the mounted config, as an operator provides them.
  let dataDir = '';
  let configFile = '';

  /** The runtime stage's process environment: its ENV, its user's HOME, and a PATH to run node. */
  const runtimeEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dataDir, ...runtime.env });

  /** `docker run IMAGE args`: the ENTRYPOINT with the image's paths mapped into the tree, as the image's user. */
  function imageCommand(args: string[]): { cmd: string; args: string[]; options: SpawnOptions } {
    const [entry, ...entryArgs] = runtime.entrypoint!.form === 'exec' ? runtime.entrypoint!.argv : [];
    return treeCommand(image(entry!), [...entryArgs, ...args]);
  }

  function treeCommand(cmd: string, args: string[]): { cmd: string; args: string[]; options: SpawnOptions } {
    const ids = process.getuid?.() === 0 ? account : {};
    return { cmd, args, options: { cwd: image(runtime.workdir), env: runtimeEnv(), ...ids, stdio: ['ignore', 'pipe', 'pipe'] } };
  }

  function complete(c: { cmd: string; args: string[]; options: SpawnOptions }, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(c.cmd, c.args, c.options);
      let stdout = '', stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  const imageRun = (args: string[]) => complete(imageCommand(args));

  async function du(dir: string): Promise<number> {
    return Number((await run('du', ['-sk', dir])).stdout.split('\t')[0]);
  }

  beforeAll(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'vigil-image-'));
    // The image's user must be able to reach the tree (mkdtemp makes it private to root).
    chmodSync(work, 0o755);
    const contextDir = path.join(work, 'context');
    for (const f of context) {
      mkdirSync(path.dirname(path.join(contextDir, f)), { recursive: true });
      cpSync(path.join(PROJECT_ROOT, f), path.join(contextDir, f), { verbatimSymlinks: true, preserveTimestamps: true });
    }
    sizes.context = treeSize(contextDir);
    const emptyNpmrc = path.join(work, 'empty-npmrc');
    writeFileSync(emptyNpmrc, '');
    emulator = new ImageEmulator({
      file,
      contextDir,
      workDir: path.join(work, 'stages'),
      // The base image's Node lives under /usr/local (its headers too, which node-gyp is pointed at).
      basePaths: { '/usr/local': hostNodePrefix },
      baseEnv: hostBaseEnv(emptyNpmrc),
      log: (line) => console.log(line),
      onNpmVersion: (v) => (npmPinned = v),
    });
    const started = performance.now();
    root = await emulator.build(runtime);
    buildSeconds = (performance.now() - started) / 1000;
    Object.assign(account, emulator.account(runtime.user!));
    sizes.runtime = { ...treeSize(root), du_kb: await du(root) };
    sizes.node_modules = { ...treeSize(image('/opt/vigil/node_modules')), du_kb: await du(image('/opt/vigil/node_modules')) };
    sizes.models = treeSize(image('/opt/vigil/models'));
    sizes.dist = treeSize(image('/opt/vigil/dist'));
    dataDir = path.join(work, 'var-lib-vigil');
    configFile = path.join(work, 'etc-vigil', 'vigil.yaml');
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(path.dirname(configFile), { recursive: true });
    if (process.getuid?.() === 0) chownSync(dataDir, account.uid, account.gid);
  }, 15 * 60_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    await rtsp?.stop();
    const lines = [
      `image tree built in ${buildSeconds.toFixed(0)} s (${emulator?.reports.filter((r) => r.action === 'executed').map((r) => `line ${r.line} ${(r.ms / 1000).toFixed(0)} s`).join(', ')})`,
      ...Object.entries(sizes).map(([k, s]) => `${k}: ${s.files} files, ${MB(s.bytes)}${s.du_kb ? ` (du ${(s.du_kb / 1024).toFixed(0)} MiB)` : ''}`),
    ];
    console.log(lines.join('\n'));
    if (!work) return;
    if (!process.env.VIGIL_KEEP_IMAGE_TREE) rmSync(work, { recursive: true, force: true });
    else console.log(`image tree kept in ${work}`);
  });

  it('was built with the npm major the Dockerfile installs and node headers matching this Node', async () => {
    expect(npmPinned, 'the build stage should pin npm').toBeTruthy();
    const ours = (await run('npm', ['--version'])).stdout.trim();
    // package.json's allowScripts is npm 11's; a different major would install differently.
    expect(ours.split('.')[0]).toBe(npmPinned!.split('.')[0]);
    if (ours !== npmPinned) console.log(`note: the Dockerfile pins npm ${npmPinned}, this machine has ${ours}`);
    const nodedir = build.env.npm_config_nodedir;
    expect(nodedir, 'npm_config_nodedir keeps node-gyp from downloading headers').toBeTruthy();
    const header = readFileSync(path.join(nodedir!.replace(/^\/usr\/local/, hostNodePrefix), 'include', 'node', 'node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((p) => new RegExp(`#define NODE_${p}_VERSION (\\d+)`).exec(header)![1]).join('.');
    expect(v).toBe(process.versions.node);
  });

  it('holds production dependencies only, the models built at image build time and no sources', () => {
    const lock = JSON.parse(readFileSync(image('/opt/vigil/node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    expect(Object.entries(lock.packages).filter(([, p]) => p.dev).map(([k]) => k)).toEqual([]);
    for (const dev of ['typescript', 'tsx', 'vitest', 'vite', '@tensorflow/tfjs-core', 'playwright-core']) {
      expect(pkg.devDependencies[dev], dev).toBeTruthy();
      expect(existsSync(image(`/opt/vigil/node_modules/${dev}`)), dev).toBe(false);
    }
    // The conversion is deterministic: the image's models are the ones the committed manifest records.
    const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', 'manifest.json'), 'utf8')) as { models: Record<string, { file: string; sha256: string }> };
    expect(Object.keys(manifest.models).length).toBeGreaterThan(0);
    for (const [id, m] of Object.entries(manifest.models)) {
      const bytes = readFileSync(image(`/opt/vigil/models/${m.file}`));
      expect(createHash('sha256').update(bytes).digest('hex'), id).toBe(m.sha256);
    }
    expect(readdirSync(image('/opt/vigil/dist'))).toEqual(['src']);
    expect(readdirSync(image('/opt/vigil/src'))).toEqual(['web']);
    expect(readdirSync(image('/opt/vigil/node_modules/onnxruntime-node/bin/napi-v6'))).toEqual([process.platform]);
    expect(existsSync(image('/opt/vigil/node_modules/@ffmpeg-installer/ffmpeg'))).toBe(true);
  });

  it('answers --version and models list, as the image user, from the tree', async () => {
    const version = await imageRun(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const models = await imageRun(['models', 'list']);
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/^nanodet-416\t/m);
    expect(models.stdout).toMatch(/^centernet-512\t/m);
  });

  it('runs the daemon: health, a camera, the web page, the detector on moving frames, the bus, the health check and a clean stop', async () => {
    const clip = await testsrcClip(640, 360, 25, 10);
    rtsp = await startRtspServer([{ name: 'street', file: clip, fps: 25 }]);
    const busPort = await closedPort();
    writeFileSync(configFile, `
data_dir: ${dataDir}
cameras:
  - { name: high-street, url: "${rtsp.url('street')}", location: high street, detect: { width: 640, height: 360, fps: 5 } }
api: { host: 127.0.0.1, port: 0 }
bus: { publish: "tcp://127.0.0.1:${busPort}" }
time_zone: Asia/Shanghai
`);
    chmodSync(configFile, 0o644);
    const check = await imageRun(['config', 'check', '--config', configFile]);
    expect(check.code, check.stderr).toBe(0);
    // The resolved config as JSON, then one "OK: ..." summary line.
    expect(JSON.parse(check.stdout.slice(0, check.stdout.lastIndexOf('\nOK: ')))).toMatchObject({ data_dir: dataDir });

    // The image's CMD with its config path pointed at the test's file.
    const entryLength = runtime.entrypoint?.form === 'exec' ? runtime.entrypoint.argv.length : 0;
    const cmd = startCommand(runtime).slice(entryLength).map((a) => (a === '/etc/vigil/vigil.yaml' ? configFile : a));
    const c = imageCommand(cmd);
    const child = spawn(c.cmd, c.args, c.options);
    daemon = child;
    let stdout = '', stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const records = () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const address = (await waitFor('the daemon to listen', () => {
      if (child.exitCode !== null) throw new Error(`vigil exited with ${child.exitCode}: ${stderr}${stdout}`);
      return records().find((r) => r.msg === 'api listening')?.address as string | undefined;
    }, 60_000))!;

    if (process.getuid?.() === 0) {
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1];
      expect(Number(uid)).toBe(account.uid);
      expect(account.uid).not.toBe(0);
    } else console.log(`note: not root, so the daemon runs as uid ${process.getuid?.()} instead of the image's ${runtime.user}`);
    const starting = records().find((r) => r.msg === 'vigil starting')!;
    expect(starting.ffmpeg).toBe(image('/opt/vigil/node_modules/@ffmpeg-installer/linux-x64/ffmpeg'));
    // The launcher found the jemalloc the image's apt layer installs (this machine's stands in for it).
    expect(starting.allocator).toBe('jemalloc');
    expect(readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim(), 'bin/vigil execs node: the ENTRYPOINT process is the daemon').toBe('node');
    expect(records().find((r) => r.msg === 'detector ready')).toMatchObject({ model: DETECTOR_DEFAULTS.model, bus: `tcp://127.0.0.1:${busPort}` });

    const health = await waitFor('the camera to come up', async () => {
      const h = (await (await fetch(`${address}/healthz`)).json()) as { status: string; version: string; cameras: Array<{ state: string }> };
      return h.cameras[0]?.state === 'up' ? h : undefined;
    }, 30_000);
    expect(health).toMatchObject({ status: 'ok', version: pkg.version });

    const page = await fetch(`${address}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await fetch(`${address}/static/vendor/jsmpeg.min.js`)).status).toBe(200);

    const token = readFileSync(path.join(dataDir, 'api-token'), 'utf8').trim();
    const info = await fetch(`${address}/api/info`, { headers: { authorization: `Bearer ${token}` } });
    expect(info.status).toBe(200);

    // Moving frames make motion, motion asks the detector: the model the image built runs.
    const inferences = await waitFor('an inference', async () => {
      const n = sample(await (await fetch(`${address}/metrics`)).text(), 'vigil_inference_seconds_count') ?? 0;
      return n > 0 ? n : undefined;
    }, 45_000);
    expect(inferences).toBeGreaterThan(0);

    // The HEALTHCHECK's own command, pointed at this daemon's port.
    const probe = (url: string) => {
      const [node, ...rest] = argv(runtime.healthcheck!.command);
      expect(node).toBe('node');
      return run(process.execPath, rest.map((a) => a.replace('http://127.0.0.1:8080', url)), { timeout: 5_000, env: runtimeEnv() }).then(() => 0, (err: { code?: number }) => err.code ?? -1);
    };
    expect(await probe(address)).toBe(0);

    const t0 = Date.now();
    child.kill(runtime.stopSignal as NodeJS.Signals);
    const result = await exited;
    expect(result, stderr).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(records().some((r) => r.msg === 'vigil stopped')).toBe(true);
    expect(await probe(address)).toBe(1);
    // Nothing the daemon wrote landed in the image's read-only tree.
    expect(readdirSync(image('/opt/vigil')).sort()).toEqual(['bin', 'config', 'data', 'dist', 'models', 'node_modules', 'package.json', 'src']);
    expect(readdirSync(image('/opt/vigil/data'))).toEqual([]);
  }, 180_000);

  it('ships the demo: `run` without --config finds its config and its clip in the image', async () => {
    expect(statSync(image('/opt/vigil/config/demo/campus.mp4')).size).toBeGreaterThan(1_000_000);
    const check = await imageRun(['config', 'check', '--config', image('/opt/vigil/config/demo.yaml')]);
    expect(check.code, check.stderr).toBe(0);
  }, 60_000);
});
