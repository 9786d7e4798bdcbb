// Where the tests' real media live, with a clear failure when they are missing (never a silent skip).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEBIAN_MEDIA, SHARED_FIXTURES } from '../../src/dev-media.js';

export { DEBIAN_MEDIA, SHARED_FIXTURES };

/** A file unpacked from Debian packages by scripts/fetch-test-media.sh (the test setup runs it). */
export function debianMedia(name: string): string {
  const file = path.join(DEBIAN_MEDIA, name);
  if (!existsSync(file)) throw new Error(`test media ${file} is missing: run scripts/fetch-test-media.sh (needs apt-get)`);
  return file;
}

/** A file from ../shared/fixtures (real street video, plate photos), which is not part of the repository. */
export function sharedFixture(relative: string): string {
  const file = path.join(SHARED_FIXTURES, relative);
  if (!existsSync(file)) {
    throw new Error(`shared fixture ${file} is missing: these tests need ../shared/fixtures beside the checkout, or VIGIL_FIXTURES=DIR naming a copy (see docs/internals.md, Tests)`);
  }
  return file;
}
