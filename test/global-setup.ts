// Runs once before the tests: real test media and promtool from Debian packages, Debian's Chromium for the
// web page's tests, Debian's jemalloc for bin/vigil, and the detector models.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildModels } from '../src/models/build.js';
import { PROJECT_ROOT } from '../src/version.js';

export default function setup(): void {
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'fetch-test-media.sh'), { stdio: 'inherit' });
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'fetch-promtool.sh'), { stdio: 'inherit' });
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'install-test-browser.sh'), { stdio: 'inherit' });
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'install-jemalloc.sh'), { stdio: 'inherit' });
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'install-postgres.sh'), { stdio: 'inherit' });
  buildModels();
}
