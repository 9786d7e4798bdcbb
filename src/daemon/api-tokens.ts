// The API's tokens as the config gives them: named ones, none (an open API, warned about), or one generated
// into data_dir/api-token on first start and read from there afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ApiToken } from '../api/auth.js';
import type { VigilConfig } from '../config/schema.js';

export /** The API's tokens: configured, none, or one generated into data_dir/api-token on first start. */
function apiTokens(config: Pick<VigilConfig, 'api' | 'data_dir'>, logger: Logger): ApiToken[] {
  const setting = config.api.tokens;
  if (setting === 'none') {
    logger.warn('api.tokens is none: /api answers anyone who can reach it');
    return [];
  }
  if (setting !== 'auto') return setting;
  const file = path.join(config.data_dir, 'api-token');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    logger.info({ file }, `generated an API token: ${file} (send it as Authorization: Bearer <token>)`);
  } else {
    logger.info({ file }, `the API token is in ${file}`);
  }
  return [{ name: 'default', token: readFileSync(file, 'utf8').trim(), scopes: ['admin'] }];
}
