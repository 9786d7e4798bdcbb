// Runs once before the tests: real test media from Debian packages, and the detector models.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildModels } from '../src/models/build.js';
import { PROJECT_ROOT } from '../src/version.js';

export default function setup(): void {
  execFileSync(path.join(PROJECT_ROOT, 'scripts', 'fetch-test-media.sh'), { stdio: 'inherit' });
  buildModels();
}
