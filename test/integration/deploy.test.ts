// The files in deploy/ are part of the product: the example config must validate, the unit must be
// one systemd accepts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { loadHubConfig } from '../../src/hub/hub-config.js';
import { PROJECT_ROOT } from '../../src/version.js';

const run = promisify(execFile);

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
});
