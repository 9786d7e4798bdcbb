// Where a development checkout finds the real media its tests, benchmarks and `vigil models calibrate` use:
// Debian's test photos and video (unpacked by scripts/fetch-test-media.sh) and the shared fixtures beside
// the checkout. None of it is part of the repository or of an installed box.
import path from 'node:path';
import { PROJECT_ROOT } from './version.js';

export const DEBIAN_MEDIA = path.join(PROJECT_ROOT, '.cache', 'debian');
/** ../shared/fixtures beside the checkout, or wherever VIGIL_FIXTURES points (a copy elsewhere). */
export const SHARED_FIXTURES = process.env.VIGIL_FIXTURES ? path.resolve(process.env.VIGIL_FIXTURES) : path.resolve(PROJECT_ROOT, '..', 'shared', 'fixtures');
