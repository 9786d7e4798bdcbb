// Asserts that a config is refused with a ConfigError (never another exception) and hands back the error or its
// problems, for the tests that check what the message says.
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

export function configRefusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err, String((err as Error).stack)).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the config to be refused');
}

/** The problems `text` (a config file named `file`) is refused with. */
export function configProblems(text: string, file: string): Array<{ path: string; message: string }> {
  return configRefusal(() => parseConfig(text, file)).problems;
}
