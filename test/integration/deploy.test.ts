// The files in deploy/ are part of the product: the example configs must validate, the units must be
// ones systemd accepts, and the station hub's compose file, dashboard and alert rules must hang together.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { composeMounts, composeValue, mountProblems } from '../harness/compose.js';
import { loadHubConfig } from '../../src/hub/hub-config.js';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);
const DEPLOY = path.join(PROJECT_ROOT, 'deploy');
const PROMTOOL = path.join(PROJECT_ROOT, '.cache', 'debian', 'promtool');

type Json = Record<string, any>;
const readYaml = (file: string): Json => YAML.parse(readFileSync(path.join(DEPLOY, file), 'utf8')) as Json;

/**
 * What a hub exports (issue 16 fixes the names; src/hub/hub-metrics.ts declares them) besides Node's process
 * defaults. operations.test.ts checks the box's dashboard and alerts.yml against a live box's scrape; the hub's
 * are checked against this list, so a misspelt name cannot leave an empty panel or an alert that never fires.
 */
const HUB_METRICS = ['vigil_hub_box_up', 'vigil_hub_replication_lag_seconds', 'vigil_hub_event_lag_seconds_bucket', 'vigil_hub_events_total',
  'vigil_hub_backfill_events_total', 'vigil_hub_gaps_total', 'vigil_hub_attachment_errors_total', 'vigil_hub_last_seq'];
const PROCESS_METRICS = /^(process_|nodejs_)[a-z0-9_]+$/;
const namesIn = (expr: string) => [...expr.matchAll(/\b(vigil_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map((m) => m[1]!);

/** systemd-analyze verify and security --offline on a unit file, ExecStart pointed at this checkout's launcher. */
async function analyzeUnit(name: string, unit: string): Promise<{ problems: string[]; exposure: number }> {
  // verify resolves ExecStart, so point it at this checkout's launcher.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-unit-'));
  const file = path.join(dir, name);
  writeFileSync(file, unit.replace('/opt/vigil/bin/vigil', path.join(PROJECT_ROOT, 'bin', 'vigil')));
  const verify = await run('systemd-analyze', ['verify', file]).catch((err: { stderr?: string; code?: string }) => {
    if (err.code === 'ENOENT') throw new Error('systemd-analyze is missing: apt-get install systemd (.ci/run does)');
    return { stdout: '', stderr: err.stderr ?? String(err) };
  });
  // verify warns about the missing vigil user on a machine where it does not exist; nothing else may come.
  const problems = verify.stderr.split('\n').filter((l) => l.trim() && !/User=|user vigil|Failed to resolve user/i.test(l));
  const security = await run('systemd-analyze', ['security', '--offline=yes', file]);
  const exposure = Number(new RegExp(`Overall exposure level for ${name.replace('.', '\\.')}: ([\\d.]+)`).exec(security.stdout)?.[1]);
  return { problems, exposure };
}

describe('deploy/', () => {
  it('ships an example site config that validates', () => {
    const { config } = loadConfig(path.join(PROJECT_ROOT, 'deploy/examples/town-centre.yaml'));
    expect(config.cameras.length).toBeGreaterThanOrEqual(5);
    expect(config.data_dir).toBe('/var/lib/vigil');
    expect(config.cameras.find((c) => c.name === 'checkpoint-north')?.detect.width).toBe(1280);
  });

  it('ships a hardened systemd unit that systemd-analyze accepts', async () => {
    const unit = readFileSync(path.join(PROJECT_ROOT, 'deploy/systemd/vigil.service'), 'utf8');
    for (const line of ['User=vigil', 'Restart=on-failure', 'RestartPreventExitStatus=2', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'KillMode=mixed']) {
      expect(unit).toContain(line);
    }
    // Started through the launcher, which picks the allocator (docs/operations.md "Memory").
    expect(unit).toMatch(/^ExecStart=\/opt\/vigil\/bin\/vigil run --config /m);
    const { problems, exposure } = await analyzeUnit('vigil.service', unit);
    expect(problems).toEqual([]);
    expect(exposure).toBeLessThan(3);
  });

  it('ships an example station hub config that validates', () => {
    const { config } = loadHubConfig(path.join(PROJECT_ROOT, 'deploy/examples/hub.yaml'));
    expect(config.boxes.map((b) => b.name)).toEqual(['north', 'centre', 'south']);
    expect(config.data_dir).toBe('/var/lib/vigil-hub');
    expect(config.api).toMatchObject({ host: '0.0.0.0', port: 8090 });
    // Every box's bus is reached with CURVE, and the hub has the key pair that needs.
    expect(config.boxes.every((b) => b.bus?.server_key)).toBe(true);
    expect(config.bus).not.toBeNull();
    // The centre box is deploy/examples/town-centre.yaml: the hub names that box's bus key.
    const { config: centre } = loadConfig(path.join(PROJECT_ROOT, 'deploy/examples/town-centre.yaml'));
    expect(config.boxes.find((b) => b.name === 'centre')?.bus?.server_key).toBe(centre.bus.curve?.public_key);
  });

  it('ships a hardened systemd unit for the hub that systemd-analyze accepts', async () => {
    const unit = readFileSync(path.join(PROJECT_ROOT, 'deploy/systemd/vigil-hub.service'), 'utf8');
    for (const line of ['User=vigil', 'Restart=on-failure', 'RestartPreventExitStatus=2', 'NoNewPrivileges=yes', 'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/vigil-hub', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      expect(unit).toContain(line);
    }
    expect(unit).toMatch(/^ExecStart=\/opt\/vigil\/bin\/vigil hub --config \/etc\/vigil\/hub\.yaml$/m);
    expect(unit).toMatch(/^After=.*\bpostgresql\.service\b/m);
    const { problems, exposure } = await analyzeUnit('vigil-hub.service', unit);
    expect(problems).toEqual([]);
    expect(exposure).toBeLessThan(3);
  });

  it('runs the hub and its PostgreSQL in compose.hub.yaml, with the example config, its data and its health check', () => {
    const compose = readYaml('compose.hub.yaml');
    const services = compose.services as Record<string, Json>;
    const mounts = (service: string) => composeMounts(compose, service);
    const resolve = composeValue;
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      const oneShot = name === 'hub-data-owner';
      if (service.restart !== (oneShot ? 'no' : 'unless-stopped')) problems.push(`${name}: restart is ${service.restart}`);
      problems.push(...mountProblems(compose, name, DEPLOY));
    }
    expect(problems).toEqual([]);
    // The same image and build as a box's compose file.
    expect(services['vigil-hub']!.build).toEqual(readYaml('compose.yaml').services.vigil.build);
    // The config the command names, through the folder mounted at /etc/vigil.
    const command = (services['vigil-hub']!.command as string[]).map(resolve);
    expect(command.slice(0, 2)).toEqual(['hub', '--config']);
    const inContainer = command[2]!;
    const folder = mounts('vigil-hub').find((m) => inContainer.startsWith(`${m.target}/`))!;
    const { config } = loadHubConfig(path.resolve(DEPLOY, folder.source, path.posix.relative(folder.target, inContainer)));
    expect(mounts('vigil-hub').find((m) => !m.bind)?.target).toBe(config.data_dir);
    expect(mounts('hub-data-owner').map((m) => m.target)).toEqual([config.data_dir]);
    expect((services['vigil-hub']!.healthcheck.test as string[]).join(' ')).toContain(`127.0.0.1:${config.api.port}/healthz`);
    // On the machine's network, the hub finds PostgreSQL where the example's database.url says, with its role,
    // password and database.
    expect(services['vigil-hub']!.network_mode).toBe('host');
    const db = new URL(config.database.url);
    const pg = services.postgres!;
    expect(pg.image).toMatch(/^postgres:15[.\d]*-bookworm$/);
    expect(pg.ports).toContain(`127.0.0.1:${db.port}:5432`);
    expect(db.hostname).toBe('127.0.0.1');
    expect(pg.environment.POSTGRES_USER).toBe(db.username);
    expect(resolve(pg.environment.POSTGRES_PASSWORD as string)).toBe(decodeURIComponent(db.password));
    expect(pg.environment.POSTGRES_DB).toBe(db.pathname.slice(1));
    expect(services['vigil-hub']!.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('ships a hub dashboard laid out on the grid that names only metrics a hub exports', () => {
    // Grafana's provider loads every file in the folder: the hub's dashboard sits beside vigil.json.
    const provider = readYaml('grafana/provisioning/dashboards/vigil.yml').providers[0] as Json;
    expect(provider.options.path).toBe('/etc/grafana/dashboards');
    const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/dashboards/vigil-hub.json'), 'utf8')) as Json;
    const box = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/dashboards/vigil.json'), 'utf8')) as Json;
    expect(dashboard.uid).not.toBe(box.uid);
    const panels = dashboard.panels as Json[];
    expect(panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['Station hub', 'Hub process']);
    const problems: string[] = [];
    const ids = new Set<number>();
    const named = new Set<string>();
    for (const p of panels) {
      if (ids.has(p.id)) problems.push(`panel ${p.id} "${p.title}": id not unique`);
      ids.add(p.id);
      const { x, y, w, h } = p.gridPos;
      if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) problems.push(`"${p.title}" is off the 24-column grid`);
      if (p.type === 'row') continue;
      if (!p.title || !p.description) problems.push(`panel ${p.id}: a title and a description`);
      for (const t of (p.targets ?? []) as Json[]) {
        if (t.datasource?.uid !== '${datasource}') problems.push(`"${p.title}": query ${t.refId} has another data source`);
        for (const name of namesIn(t.expr as string)) named.add(name);
      }
    }
    for (const [i, a] of panels.entries()) {
      for (const b of panels.slice(i + 1)) {
        const A = a.gridPos, B = b.gridPos;
        if (A.x < B.x + B.w && B.x < A.x + A.w && A.y < B.y + B.h && B.y < A.y + A.h) problems.push(`"${a.title}" overlaps "${b.title}"`);
      }
    }
    for (const v of dashboard.templating.list as Json[]) if (v.type === 'query') for (const name of namesIn(v.query as string)) named.add(name);
    expect(problems).toEqual([]);
    expect([...named].filter((n) => !HUB_METRICS.includes(n) && !PROCESS_METRICS.test(n)), 'names a hub does not export').toEqual([]);
    for (const name of ['vigil_hub_box_up', 'vigil_hub_replication_lag_seconds', 'vigil_hub_events_total', 'vigil_hub_backfill_events_total',
      'vigil_hub_gaps_total', 'vigil_hub_attachment_errors_total']) {
      expect(named, `a panel should show ${name}`).toContain(name);
    }
  });

  it('ships hub alert rules that promtool accepts, each unit-tested, on metrics a hub exports', async () => {
    if (!existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} is missing: run scripts/fetch-promtool.sh (the test setup does)`);
    const check = await run(PROMTOOL, ['check', 'rules', 'deploy/prometheus/hub-alerts.yml'], { cwd: PROJECT_ROOT });
    expect(check.stdout).toMatch(/SUCCESS: 4 rules found/);
    const rules = (readYaml('prometheus/hub-alerts.yml').groups as Json[]).flatMap((g) => g.rules as Json[]);
    expect(rules.map((r) => r.alert)).toEqual(['VigilHubBoxDown', 'VigilHubReplicationLag', 'VigilHubGaps', 'VigilHubAttachmentErrors']);
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toContain('{{ $labels.box }}');
      expect((r.annotations?.description as string).length, r.alert).toBeGreaterThan(100);
      expect(namesIn(r.expr as string).filter((n) => !HUB_METRICS.includes(n)), r.alert).toEqual([]);
    }
    expect(rules.find((r) => r.alert === 'VigilHubAttachmentErrors')?.labels.severity).toBe('critical');
    // alerts.test.yml runs them (operations.test.ts runs promtool test rules on it): each must fire there.
    const tests = readYaml('prometheus/alerts.test.yml');
    expect(tests.rule_files).toContain('hub-alerts.yml');
    const fired = new Set((tests.tests as Json[]).flatMap((t) => (t.alert_rule_test as Json[]).filter((a) => (a.exp_alerts as Json[]).length > 0).map((a) => a.alertname as string)));
    expect(rules.map((r) => r.alert as string).filter((a) => !fired.has(a))).toEqual([]);
  });
});
