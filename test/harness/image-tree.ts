// Builds a Dockerfile's file trees without a Docker engine: each stage gets a directory standing for its
// root filesystem; COPY lines copy into it, and RUN lines are either executed for real on this machine (npm
// and node, inside the stage's tree), emulated (users, directories, ownership) or skipped because they only
// install what the base image or this machine provides (apt-get). A RUN the emulator does not know is an
// error, never a silent skip: then this file needs teaching, or the Dockerfile a simpler line.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { argv, type CopyStep, type Dockerfile, type RunStep, type Stage } from './dockerfile.js';

export interface StepReport {
  stage: string;
  line: number;
  what: string;
  action: 'executed' | 'emulated' | 'skipped' | 'copied';
  ms: number;
  note?: string;
}

export interface EmulatorOptions {
  file: Dockerfile;
  /** The build context, already filtered by .dockerignore. */
  contextDir: string;
  /** Where the stage roots go. */
  workDir: string;
  /** Container path prefixes that belong to the base image, and where this machine has the same thing. */
  basePaths: Record<string, string>;
  /** Environment of executed RUNs before the Dockerfile's ENV (PATH, HOME, proxies, CA files). */
  baseEnv: Record<string, string>;
  log?: (line: string) => void;
  /** Called for `npm install -g npm@VERSION`, which is skipped: the check decides whether this machine's npm will do. */
  onNpmVersion?: (version: string) => void;
}

interface Account { uid: number; gid: number }

export class ImageEmulator {
  readonly roots = new Map<number, string>();
  readonly reports: StepReport[] = [];
  private readonly users = new Map<string, Account>();
  private readonly groups = new Map<string, number>();

  constructor(private readonly options: EmulatorOptions) {}

  /** The host path standing for `containerPath` in a stage's root. */
  host(stage: Stage, containerPath: string): string {
    const root = this.roots.get(stage.index);
    if (!root) throw new Error(`stage ${stage.name ?? stage.index} is not built`);
    return path.join(root, path.posix.resolve('/', containerPath));
  }

  /** Builds every stage up to and including `target`, in order. */
  async build(target: Stage): Promise<string> {
    for (const stage of this.options.file.stages) {
      if (stage.index > target.index) break;
      const root = path.join(this.options.workDir, `stage-${stage.index}-${stage.name ?? 'unnamed'}`);
      const parent = this.options.file.stages.find((s) => s.name === stage.from);
      if (parent) cpSync(this.roots.get(parent.index)!, root, { recursive: true, verbatimSymlinks: true });
      else mkdirSync(root, { recursive: true });
      chmodSync(root, 0o755);
      this.roots.set(stage.index, root);
      mkdirSync(this.host(stage, stage.workdir), { recursive: true });
      for (const step of stage.steps) {
        const started = performance.now();
        const report = step.kind === 'copy' ? this.copy(stage, step) : await this.run(stage, step);
        this.reports.push({ stage: stage.name ?? String(stage.index), line: step.line, ms: performance.now() - started, ...report });
        this.options.log?.(`[${stage.name ?? stage.index}] line ${step.line}: ${report.action} ${report.what}${report.note ? ` (${report.note})` : ''} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    }
    return this.roots.get(target.index)!;
  }

  private copy(stage: Stage, step: CopyStep): Omit<StepReport, 'stage' | 'line' | 'ms'> {
    if (step.keyword === 'ADD') throw new Error(`line ${step.line}: ADD is not emulated (use COPY)`);
    let sourceRoot = this.options.contextDir;
    if (step.from !== undefined) {
      const from = this.options.file.stages.find((s) => s.name === step.from?.toLowerCase() || String(s.index) === step.from);
      if (!from || from.index >= stage.index) throw new Error(`line ${step.line}: COPY --from=${step.from} is not an earlier stage (images are not emulated)`);
      sourceRoot = this.roots.get(from.index)!;
    }
    const dest = this.host(stage, step.dest);
    for (const source of step.sources) {
      if (/[*?[]/.test(source)) throw new Error(`line ${step.line}: wildcards in COPY sources are not emulated: ${source}`);
      // Context sources are relative to the context root (a leading / too); stage sources are absolute paths.
      const from = path.join(sourceRoot, path.posix.resolve('/', source));
      const isDir = lstatSync(from).isDirectory();
      const target = isDir || !step.destIsDir ? dest : path.join(dest, path.basename(from));
      mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
      cpSync(from, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      if (step.chown) this.chown(step.chown, target, true);
      if (step.chmod) chmodTree(target, parseInt(step.chmod, 8));
    }
    return { what: `COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`, action: 'copied' };
  }

  private async run(stage: Stage, step: RunStep): Promise<Omit<StepReport, 'stage' | 'line' | 'ms'>> {
    for (const mount of step.flags.mount ?? []) {
      // A cache mount only keeps npm's download cache between builds; this machine's npm cache plays its part.
      if (!/(^|,)type=cache(,|$)/.test(mount)) throw new Error(`line ${step.line}: RUN --mount=${mount} is not emulated`);
    }
    if (step.command.form !== 'shell') throw new Error(`line ${step.line}: exec-form RUN is not emulated`);
    const text = step.command.text.trim();
    if (/[;|<>`]|\$\(|\|\||(^|[^&])&([^&]|$)/.test(text)) throw new Error(`line ${step.line}: only commands joined with && are emulated: ${text}`);
    const segments = text.split('&&').map((s) => s.trim());
    const what = `RUN ${text.replace(/\s+/g, ' ')}`;
    if (segments.some((s) => /^apt-get\b/.test(s))) {
      const others = segments.filter((s) => !/^apt-get\b/.test(s) && s !== 'rm -rf /var/lib/apt/lists/*');
      if (others.length) throw new Error(`line ${step.line}: an apt-get RUN may only clean the apt lists besides: ${others.join(' && ')}`);
      const packages = segments.flatMap((s) => (/^apt-get install\b/.test(s) ? s.split(/\s+/).slice(2).filter((w) => !w.startsWith('-')) : []));
      return { what, action: 'skipped', note: `Debian packages of the image (${packages.join(' ')}): this machine's are used` };
    }
    const npmSelf = /^npm (?:install|i) (?:-g|--global) npm@(\S+)$/.exec(text);
    if (npmSelf) {
      this.options.onNpmVersion?.(npmSelf[1]!);
      return { what, action: 'skipped', note: `this machine's npm stands in for npm@${npmSelf[1]}` };
    }
    const executed: string[] = [];
    const emulated: string[] = [];
    for (const segment of segments) {
      const words = segment.split(/\s+/);
      if (words.some((w) => /["'\\]/.test(w))) throw new Error(`line ${step.line}: quotes and escapes are not emulated: ${segment}`);
      if (/^(npm (ci|prune|run|rebuild)|node) /.test(segment) || segment === 'npm ci') {
        // Executed for real, inside the stage's tree: nothing may name a path outside it.
        const outside = words.find((w) => w.startsWith('/') || w.split('/').includes('..'));
        if (outside) throw new Error(`line ${step.line}: ${segment}: ${outside} is outside the working directory`);
        await this.exec(stage, step, segment);
        executed.push(segment);
      } else {
        this.emulate(stage, step, words);
        emulated.push(words[0]!);
      }
    }
    return { what, action: executed.length ? 'executed' : 'emulated', ...(emulated.length && executed.length ? { note: `emulated: ${emulated.join(', ')}` } : {}) };
  }

  private env(stage: Stage, step: RunStep): Record<string, string> {
    const env = { ...this.options.baseEnv };
    for (const [k, v] of Object.entries(step.env)) env[k] = v.startsWith('/') ? this.mapPath(stage, v) : v;
    return env;
  }

  /** A container path in an ENV value: the base image's own paths map to this machine's, others into the stage. */
  private mapPath(stage: Stage, value: string): string {
    for (const [prefix, hostPath] of Object.entries(this.options.basePaths)) {
      if (value === prefix || value.startsWith(prefix + '/')) return hostPath + value.slice(prefix.length);
    }
    return this.host(stage, value);
  }

  private exec(stage: Stage, step: RunStep, segment: string): Promise<void> {
    const cwd = this.host(stage, step.workdir);
    const logFile = path.join(this.options.workDir, `run-line-${step.line}.log`);
    return new Promise((resolve, reject) => {
      const [file, ...args] = argv({ form: 'shell', text: segment });
      const child = spawn(file!, args, { cwd, env: this.env(stage, step), stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        writeFileSync(logFile, output);
        if (code === 0) resolve();
        else reject(new Error(`line ${step.line}: "${segment}" exited ${code}:\n${output.split('\n').slice(-40).join('\n')}`));
      });
    });
  }

  /** The few commands that set up users and directories, applied to the stage's tree. */
  private emulate(stage: Stage, step: RunStep, words: string[]): void {
    const [cmd, ...rest] = words;
    const option = (name: string) => {
      const i = rest.indexOf(name);
      return i >= 0 ? rest[i + 1] : undefined;
    };
    const operands = (withValues: string[]) => rest.filter((w, i) => !w.startsWith('-') && !withValues.includes(rest[i - 1] ?? ''));
    switch (cmd) {
      case 'groupadd': {
        const [name] = operands(['--gid', '-g']);
        this.groups.set(name!, Number(option('--gid') ?? option('-g') ?? 999));
        return;
      }
      case 'useradd': {
        const [name] = operands(['--uid', '-u', '--gid', '-g', '--home-dir', '-d', '--shell', '-s']);
        const group = option('--gid') ?? option('-g') ?? name!;
        const gid = /^\d+$/.test(group) ? Number(group) : this.groups.get(group);
        if (gid === undefined) throw new Error(`line ${step.line}: useradd: unknown group ${group}`);
        this.users.set(name!, { uid: Number(option('--uid') ?? option('-u') ?? 999), gid });
        return;
      }
      case 'mkdir':
        for (const dir of operands(['-m'])) mkdirSync(this.host(stage, dir), { recursive: rest.includes('-p') });
        return;
      case 'chown': {
        const [owner, ...paths] = operands([]);
        for (const p of paths) this.chown(owner!, this.host(stage, p), rest.includes('-R'));
        return;
      }
      case 'chmod': {
        const [mode, ...paths] = operands([]);
        if (!/^[0-7]{3,4}$/.test(mode!)) throw new Error(`line ${step.line}: chmod ${mode}: only octal modes are emulated`);
        for (const p of paths) chmodSync(this.host(stage, p), parseInt(mode!, 8));
        return;
      }
      default:
        throw new Error(`line ${step.line}: "${words.join(' ')}" is neither executed nor emulated by test/harness/image-tree.ts`);
    }
  }

  /** user[:group] by number or by a name the Dockerfile created. Only root can give files away. */
  account(spec: string): Account {
    const [user, group] = spec.split(':');
    const known = this.users.get(user!);
    const uid = /^\d+$/.test(user!) ? Number(user) : known?.uid;
    if (uid === undefined) throw new Error(`unknown user ${user}`);
    const gid = group === undefined ? (known?.gid ?? uid) : /^\d+$/.test(group) ? Number(group) : this.groups.get(group);
    if (gid === undefined) throw new Error(`unknown group ${group}`);
    return { uid, gid };
  }

  private chown(spec: string, target: string, recursive: boolean): void {
    const { uid, gid } = this.account(spec);
    if (process.getuid?.() !== 0) return;
    const apply = (p: string) => {
      chownSync(p, uid, gid);
      if (recursive && lstatSync(p).isDirectory()) for (const e of readdirSync(p)) apply(path.join(p, e));
    };
    apply(target);
  }
}

function chmodTree(target: string, mode: number): void {
  chmodSync(target, mode);
  if (lstatSync(target).isDirectory()) for (const e of readdirSync(target)) chmodTree(path.join(target, e), mode);
}

/** What an executed RUN gets from this machine: its tools, home (npm's cache), proxies and CA files. */
export function hostBaseEnv(emptyUserConfig: string): Record<string, string> {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];
  const env: Record<string, string> = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  env.HOME ??= os.homedir();
  // The image has no ~/.npmrc: this machine's must not help (or hinder) the build.
  env.npm_config_userconfig = emptyUserConfig;
  return env;
}

export interface TreeSize { files: number; bytes: number }

/** Regular files and symlinks under `dir`, and their apparent size. */
export function treeSize(dir: string): TreeSize {
  let files = 0, bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        bytes += lstatSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
