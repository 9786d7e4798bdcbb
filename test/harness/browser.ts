// Debian's Chromium driven by playwright-core: the real browser an officer would use, installed from the
// distribution rather than downloaded (scripts/install-test-browser.sh, run by the test setup).
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../src/version.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots the tests save for people to look at; CI keeps the folder as an artifact. */
export const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts', 'web');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-test-browser.sh (apt-get install chromium)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
    timeout: 30_000,
  });
}

export const artifact = (name: string) => path.join(ARTIFACTS, name);
