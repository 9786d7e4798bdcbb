// deploy/'s monitoring is part of the product: Prometheus's own promtool checks the scrape config and the
// alert rules and runs the rules' unit tests, and every metric and label the dashboard and the rules name
// must be one a running vigil exports. A renamed metric would otherwise leave an empty panel and an
// alert that can never fire, and nobody would notice until the day it was needed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeMounts, composeValue, mountProblems } from '../harness/compose.js';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { VigilMetrics } from '../../src/metrics/metrics.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { sample, startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.js';
import { patternClip } from '../harness/media.js';
import { closedPort, startRtspServer, type RtspServerProcess } from '../harness/rtsp-process.js';
import { waitFor } from '../harness/wait.js';
import { writeDaemonConfig } from '../harness/daemon-config.js';

const run = promisify(execFile);
const DEPLOY = path.join(PROJECT_ROOT, 'deploy');
const PROMTOOL = path.join(PROJECT_ROOT, '.cache', 'debian', 'promtool');
const DASHBOARD = path.join(DEPLOY, 'grafana', 'dashboards', 'vigil.json');
const ALERTS = path.join(DEPLOY, 'prometheus', 'alerts.yml');

type Json = Record<string, any>;
const readYaml = (file: string): Json => YAML.parse(readFileSync(file, 'utf8')) as Json;

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run scripts/fetch-promtool.sh (the test setup does)`);
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: PROJECT_ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the dashboard and the rules ask for

interface Matcher { label: string; op: string; value: string }
interface Selector { metric: string; matchers: Matcher[] }
interface Query { where: string; expr: string; selectors: Selector[]; grouping: string[]; unknownFunctions: string[] }

const FUNCTIONS = new Set(`abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp
  clamp_max clamp_min cos cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp
  floor histogram_avg histogram_count histogram_fraction histogram_quantile histogram_stddev histogram_stdvar
  histogram_sum holt_winters double_exponential_smoothing hour idelta increase irate label_join label_replace
  last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi predict_linear
  present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_by_label
  sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector
  year`.split(/\s+/));
const AGGREGATIONS = new Set('sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio'.split(' '));
const WITH_LABEL_LIST = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['bool', 'offset', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'start', 'end']);

/** The metric selectors, grouping labels and unknown function names of one PromQL expression. */
function parsePromql(where: string, expr: string): Query {
  const query: Query = { where, expr, selectors: [], grouping: [], unknownFunctions: [] };
  const ident = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
  const matcher = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*,?/y;
  const skipSpace = (i: number) => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
    return i;
  };
  const readMatchers = (i: number): { matchers: Matcher[]; end: number } => {
    const matchers: Matcher[] = [];
    let j = i + 1;
    for (;;) {
      j = skipSpace(j);
      if (expr[j] === '}') return { matchers, end: j + 1 };
      matcher.lastIndex = j;
      const m = matcher.exec(expr);
      if (!m) throw new Error(`${where}: cannot read the label matchers at "${expr.slice(j, j + 30)}" in ${expr}`);
      matchers.push({ label: m[1]!, op: m[2]!, value: m[3]!.slice(1, -1) });
      j = matcher.lastIndex;
    }
  };
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'" || c === '`') {
      const close = expr.indexOf(c, i + 1);
      i = close < 0 ? expr.length : close + 1;
    } else if (c === '[') {
      // Ranges, subqueries and Grafana's $__rate_interval / $__range.
      i = expr.indexOf(']', i) + 1 || expr.length;
    } else if (c === '{') {
      // A selector without a name ({__name__=~...}): nothing to check by name.
      i = readMatchers(i).end;
    } else if (c === '$') {
      i = /\$\{?[a-zA-Z0-9_]*\}?/y.exec(expr.slice(i))?.[0].length! + i;
    } else if (/[0-9.]/.test(c)) {
      // Numbers and durations: 0.95, 1e9, 5m, 1h30m.
      i += /[0-9.][0-9a-zA-Z.]*/y.exec(expr.slice(i))![0].length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      ident.lastIndex = i;
      const word = ident.exec(expr)![0];
      i = skipSpace(i + word.length);
      const lower = word.toLowerCase();
      if (WITH_LABEL_LIST.has(lower)) {
        if (expr[i] === '(') {
          const close = expr.indexOf(')', i);
          query.grouping.push(...expr.slice(i + 1, close).split(',').map((l) => l.trim()).filter(Boolean));
          i = close + 1;
        }
      } else if (FUNCTIONS.has(word) || AGGREGATIONS.has(lower) || KEYWORDS.has(lower)) {
        // the call's arguments are read as the loop goes on
      } else if (expr[i] === '(') {
        query.unknownFunctions.push(word);
      } else {
        const selector: Selector = { metric: word, matchers: [] };
        if (expr[i] === '{') {
          const read = readMatchers(i);
          selector.matchers = read.matchers;
          i = read.end;
        }
        query.selectors.push(selector);
      }
    } else i++;
  }
  return query;
}

function panelsOf(dashboard: Json): Json[] {
  const out: Json[] = [];
  for (const p of dashboard.panels as Json[]) {
    out.push(p);
    if (Array.isArray(p.panels)) out.push(...(p.panels as Json[]));
  }
  return out;
}

function dashboardQueries(dashboard: Json): Query[] {
  const queries: Query[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const t of (panel.targets ?? []) as Json[]) queries.push(parsePromql(`dashboard panel "${panel.title}"`, t.expr as string));
  }
  for (const v of dashboard.templating.list as Json[]) {
    if (v.type !== 'query') continue;
    const text = typeof v.query === 'string' ? v.query : (v.query.query as string);
    // Grafana's label_values(selector, label): the label must be on the metric.
    const lv = /^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(text);
    const q = parsePromql(`dashboard variable $${v.name}`, lv ? lv[1]! : text);
    if (lv) q.grouping.push(lv[2]!);
    queries.push(q);
  }
  return queries;
}

function alertQueries(): Query[] {
  return (readYaml(ALERTS).groups as Json[]).flatMap((g) =>
    (g.rules as Json[]).map((r) => parsePromql(`alert ${r.alert}`, r.expr as string)),
  );
}

// ---------------------------------------------------------------------------------------------------------
// What vigil exports

interface Exposition {
  types: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string> }>;
}

function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Exposition['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels });
  }
  return { types, samples };
}

/** The metric family a queried name belongs to: a histogram's _bucket/_sum/_count, a counter with or without _total. */
function family(types: Map<string, string>, name: string): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.slice(0, -suffix.length);
    if (name.endsWith(suffix) && ['histogram', 'summary'].includes(types.get(base) ?? '')) return base;
  }
  if (types.get(`${name}_total`) === 'counter') return `${name}_total`;
  if (name.endsWith('_total') && types.get(name.slice(0, -6)) === 'counter') return name.slice(0, -6);
  return undefined;
}

/** Written by Prometheus, not by the target. */
const PROMETHEUS_SERIES = new Set(['up']);
/** Labels Prometheus adds to every series it scrapes, and the histogram bucket bound. */
const ANY_METRIC_LABELS = new Set(['instance', 'job', 'le', '__name__']);

/**
 * Label values of series that exist only once something has happened (an event committed), so a freshly
 * started daemon cannot show them: taken from the source's own type, so a renamed kind still fails here.
 */
function valuesWrittenLater(): Map<string, Map<string, Set<string>>> {
  const store = readFileSync(path.join(PROJECT_ROOT, 'src/events/store.ts'), 'utf8');
  const union = /export type EventKind = ([^;]+);/.exec(store)?.[1];
  if (!union) throw new Error('src/events/store.ts no longer declares `export type EventKind = ...;`: update this test');
  const kinds = new Set([...union.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
  return new Map([['vigil_events_total', new Map([['kind', kinds]])]]);
}

/** Every problem with the queries against a scrape: names vigil does not export, labels it does not write. */
function checkQueries(queries: Query[], exposition: Exposition): string[] {
  const { types, samples } = exposition;
  // Label names as declared, for metrics with no series yet (nobody watching live, no detection failure).
  const declared = new VigilMetrics();
  declared.setPipelineSource({ queueDepth: () => 0, utilisation: () => 0, storeBytes: () => 0 });
  declared.setStoreBudget(1);
  const later = valuesWrittenLater();
  const seriesOf = (fam: string) => samples.filter((s) => family(types, s.name) === fam);
  const labelNames = (fam: string): Set<string> => {
    const names = new Set(seriesOf(fam).flatMap((s) => Object.keys(s.labels)));
    const metric = declared.registry.getSingleMetric(fam) as unknown as { labelNames?: readonly string[] } | undefined;
    for (const l of metric?.labelNames ?? []) names.add(l);
    return names;
  };
  const problems: string[] = [];
  for (const q of queries) {
    for (const f of q.unknownFunctions) problems.push(`${q.where}: ${f}() is not a PromQL function`);
    const families: string[] = [];
    for (const { metric, matchers } of q.selectors) {
      if (PROMETHEUS_SERIES.has(metric)) continue;
      const fam = family(types, metric);
      if (!fam) {
        problems.push(`${q.where}: ${metric} is not exported by vigil`);
        continue;
      }
      families.push(fam);
      const names = labelNames(fam);
      for (const { label, op, value } of matchers) {
        if (ANY_METRIC_LABELS.has(label)) continue;
        if (!names.has(label)) {
          problems.push(`${q.where}: ${metric} has no label "${label}" (it has: ${[...names].join(', ') || 'none'})`);
          continue;
        }
        // Values are checked where they are literal: "x" for =, "x|y" for =~; Grafana variables are not.
        const literal = op === '=' ? [value] : op === '=~' && /^[\w|]+$/.test(value) ? value.split('|') : [];
        const seen = new Set(seriesOf(fam).map((s) => s.labels[label]));
        for (const v of literal) {
          if (seen.has(v) || later.get(fam)?.get(label)?.has(v)) continue;
          const known = new Set([...seen, ...(later.get(fam)?.get(label) ?? [])].filter((x) => x !== undefined));
          problems.push(`${q.where}: ${metric}{${label}="${v}"} is never written (vigil writes ${label} = ${[...known].join(', ')})`);
        }
      }
    }
    for (const label of q.grouping) {
      if (ANY_METRIC_LABELS.has(label)) continue;
      if (!families.some((f) => labelNames(f).has(label))) {
        problems.push(`${q.where}: groups by "${label}", a label none of ${families.join(', ') || 'its metrics'} has`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------

describe('deploy/prometheus with promtool', () => {
  it('has a valid scrape config whose rule file resolves next to it', async () => {
    const result = await promtool('check', 'config', 'deploy/prometheus/prometheus.yml');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: 1 rule files? found/);
  });

  it('has valid alert rules, each with a for:, a severity and what to do', async () => {
    const result = await promtool('check', 'rules', 'deploy/prometheus/alerts.yml');
    expect(result.code, result.output).toBe(0);
    const rules = (readYaml(ALERTS).groups as Json[]).flatMap((g) => g.rules as Json[]);
    expect(rules.length).toBeGreaterThanOrEqual(7);
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect((r.annotations?.description as string).length, r.alert).toBeGreaterThan(100);
    }
  });

  it('passes the rules\' unit tests: every alert fires on its input and stays quiet on the rest', async () => {
    const result = await promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml');
    expect(result.code, result.output).toBe(0);
    const tested = new Set(
      (readYaml(path.join(DEPLOY, 'prometheus', 'alerts.test.yml')).tests as Json[]).flatMap((t) =>
        (t.alert_rule_test as Json[]).filter((a) => (a.exp_alerts as Json[]).length > 0).map((a) => a.alertname as string),
      ),
    );
    const alerts = (readYaml(ALERTS).groups as Json[]).flatMap((g) => (g.rules as Json[]).map((r) => r.alert as string));
    expect(alerts.filter((a) => !tested.has(a)), 'alerts without a firing unit test').toEqual([]);
  });
});

describe('deploy/grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Json;

  it('is laid out on the 24-column grid, panels apart, each with a title, a data source and a unique id', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    const panels = panelsOf(dashboard);
    const problems: string[] = [];
    const ids = new Map<number, string>();
    for (const p of panels) {
      const name = `panel ${p.id} "${p.title}"`;
      if (!p.title) problems.push(`${name}: no title`);
      if (typeof p.id !== 'number' || ids.has(p.id)) problems.push(`${name}: id not unique (also ${ids.get(p.id)})`);
      ids.set(p.id, p.title);
      const { x, y, w, h } = p.gridPos ?? {};
      if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) {
        problems.push(`${name}: gridPos ${JSON.stringify(p.gridPos)} is off the 24-column grid`);
      }
      if (p.type === 'row') continue;
      if (p.datasource?.uid !== '${datasource}') problems.push(`${name}: data source is not the $datasource variable`);
      if (!(p.targets?.length > 0)) problems.push(`${name}: no queries`);
      for (const t of p.targets ?? []) if (t.datasource?.uid !== '${datasource}') problems.push(`${name}: query ${t.refId} has another data source`);
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const A = a.gridPos, B = b.gridPos;
        if (A.x < B.x + B.w && B.x < A.x + A.w && A.y < B.y + B.h && B.y < A.y + A.h) problems.push(`"${a.title}" overlaps "${b.title}"`);
      }
    }
    expect(problems).toEqual([]);
    expect(panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Cameras', 'Detection', 'Events', 'Store', 'Process']);
  });

  it('defaults to the provisioned Prometheus and offers a camera variable', () => {
    const provisioned = readYaml(path.join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml')).datasources[0] as Json;
    const variables = dashboard.templating.list as Json[];
    const ds = variables.find((v) => v.name === 'datasource')!;
    expect(ds).toMatchObject({ type: 'datasource', query: provisioned.type, current: { value: provisioned.uid } });
    expect(provisioned.url).toBe('http://prometheus:9090');
    const camera = variables.find((v) => v.name === 'camera')!;
    expect(camera.query).toMatch(/^label_values\(vigil_camera_up\b.*, camera\)$/);
    expect(camera).toMatchObject({ multi: true, includeAll: true });
  });
});

describe('deploy/compose.yaml', () => {
  const compose = readYaml(path.join(DEPLOY, 'compose.yaml'));
  const services = compose.services as Record<string, Json>;
  const resolve = composeValue;
  const mounts = (service: string) => composeMounts(compose, service);

  it('mounts files that exist, pins its images and keeps its data in named volumes', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      if (service.restart !== 'unless-stopped') problems.push(`${name}: restart is ${service.restart}`);
      if (service.image && !/:v?\d+\.\d+\.\d+$/.test(service.image as string) && !service.build) problems.push(`${name}: image ${service.image} is not pinned to a version`);
      problems.push(...mountProblems(compose, name, DEPLOY));
    }
    const build = services.vigil!.build as Json;
    expect(statSync(path.resolve(DEPLOY, build.context as string)).isDirectory()).toBe(true);
    expect(existsSync(path.resolve(DEPLOY, build.context as string, build.dockerfile as string)), 'the Dockerfile compose builds').toBe(true);
    expect(problems).toEqual([]);
  });

  it('runs vigil with a config that listens where the ports, the volume, the healthcheck and Prometheus expect', () => {
    // The config file the command names, found through the folder mounted at /etc/vigil.
    const command = (services.vigil!.command as string[]).map(resolve);
    const inContainer = command[command.indexOf('--config') + 1]!;
    const folder = mounts('vigil').find((m) => inContainer.startsWith(`${m.target}/`))!;
    expect(services.vigil!.init, 'signals reach vigil through an init').toBe(true);
    const { config: vigil } = loadConfig(path.resolve(DEPLOY, folder.source, path.posix.relative(folder.target, inContainer)));
    expect(vigil.api.host, 'a container must listen on all its interfaces').toBe('0.0.0.0');
    expect(mounts('vigil').find((m) => !m.bind)?.target).toBe(vigil.data_dir);
    expect(services.vigil!.ports).toContain(`${vigil.api.port}:${vigil.api.port}`);
    expect(vigil.bus.publish).toBe('tcp://0.0.0.0:5556');
    expect(services.vigil!.ports).toContain('5556:5556');
    expect((services.vigil!.healthcheck.test as string[]).join(' ')).toContain(`127.0.0.1:${vigil.api.port}/healthz`);

    const prometheus = readYaml(path.join(DEPLOY, 'prometheus/prometheus.yml'));
    const job = (prometheus.scrape_configs as Json[]).find((j) => j.job_name === 'vigil')!;
    expect(job.static_configs[0].targets).toEqual([`vigil:${vigil.api.port}`]);
    // rule_files resolve next to prometheus.yml inside the container: both must be mounted there.
    const promMounts = mounts('prometheus');
    const configTarget = promMounts.find((m) => m.source.endsWith('prometheus.yml'))!.target;
    for (const rules of prometheus.rule_files as string[]) {
      expect(promMounts.map((m) => m.target)).toContain(path.posix.join(path.posix.dirname(configTarget), rules));
    }
  });

  it('provisions Grafana with the data source and the dashboard, behind a sign-in', () => {
    const grafana = services.grafana!;
    expect(grafana.environment.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:-.+\}$/);
    const provider = readYaml(path.join(DEPLOY, 'grafana/provisioning/dashboards/vigil.yml')).providers[0] as Json;
    const dashboards = mounts('grafana').find((m) => m.target === provider.options.path)!;
    expect(existsSync(path.resolve(DEPLOY, dashboards.source, 'vigil.json'))).toBe(true);
    expect(grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(path.posix.join(provider.options.path, 'vigil.json'));
    for (const dir of ['datasources', 'dashboards']) {
      expect(mounts('grafana').map((m) => m.target)).toContain(`/etc/grafana/provisioning/${dir}`);
    }
  });
});

describe('every metric and label the dashboard and the alerts name is exported by vigil', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-ops-'));
  let server: RtspServerProcess;
  let daemon: DaemonProcess;
  let scrape: string;
  let exposition: Exposition;

  beforeAll(async () => {
    const clip = await patternClip(640, 360, 25, 12);
    server = await startRtspServer([{ name: 'cam1', file: clip, fps: 25 }]);
    const file = writeDaemonConfig(dir, {
      cameras: [
        { name: 'gate-north', url: server.url('cam1'), location: 'north gate', detect: { width: 320, height: 180, fps: 5 } },
        { name: 'gate-closed', url: `rtsp://127.0.0.1:${await closedPort()}/x`, location: 'nowhere', detect: { width: 320, height: 180, fps: 5 } },
      ],
      busPort: null,
      api: { tokens: 'none' },
      ingest: { stall_timeout_s: 2, startup_timeout_s: 4, backoff_initial_s: 0.2, backoff_max_s: 1 },
      store: { max_disk_gb: 2 },
      extra: { plates: { enabled: true } },
    });
    daemon = await startDaemonProcess(['--config', file]);
    const metrics = () => fetch(`${daemon.address}/metrics`).then((r) => r.text());
    await waitFor('gate-north up with frames, gate-closed refused and retried', async () => {
      const text = await metrics();
      return (
        sample(text, 'vigil_camera_up', { camera: 'gate-north' }) === 1 &&
        (sample(text, 'vigil_frames_total', { camera: 'gate-north' }) ?? 0) >= 10 &&
        (sample(text, 'vigil_camera_restarts_total', { camera: 'gate-closed' }) ?? 0) >= 1
      );
    });
    scrape = await metrics();
    exposition = parseExposition(scrape);
  });
  afterAll(async () => {
    await daemon?.stop();
    await server?.stop();
  });

  it('exports the store budget beside the store size', () => {
    expect(sample(scrape, 'vigil_store_budget_bytes')).toBe(2e9);
    expect(sample(scrape, 'vigil_store_bytes')).toBeGreaterThan(0);
  });

  it("exports each worker thread's heap: the inference worker's and the plate reader's", () => {
    for (const worker of ['detect-worker-1', 'plate-worker-1']) {
      const used = sample(scrape, 'vigil_worker_heap_used_bytes', { worker });
      const size = sample(scrape, 'vigil_worker_heap_size_bytes', { worker });
      // A worker's isolate holds at least its modules (a few MB) and commits at least what it uses.
      expect(used, worker).toBeGreaterThan(1e6);
      expect(size, worker).toBeGreaterThanOrEqual(used!);
    }
  });

  it('finds them all in a live scrape', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Json;
    const queries = [...dashboardQueries(dashboard), ...alertQueries()];
    const problems = checkQueries(queries, exposition);
    expect(problems, `metrics or labels the dashboard or alerts.yml use that vigil does not export:\n  ${problems.join('\n  ')}\n`).toEqual([]);
    // A parser that found nothing would pass everything: these must have been read.
    const named = new Set(queries.flatMap((q) => q.selectors.map((s) => s.metric)));
    for (const name of ['vigil_camera_up', 'vigil_frames_dropped_total', 'vigil_pipeline_latency_seconds_bucket', 'vigil_store_budget_bytes',
      'process_cpu_seconds_total', 'vigil_events_total', 'up']) {
      expect(named, `the queries should name ${name}`).toContain(name);
    }
    expect(named.size).toBeGreaterThan(20);
  });
});
