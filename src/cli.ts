#!/usr/bin/env node
// vigil's command line. Exit codes are a contract: 0 success, 1 runtime failure, 2 bad arguments or config.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import { startDaemon } from './daemon.js';
import { ensureDemoClip } from './demo/demo-clip.js';
import { bundledFfmpegPath } from './ingest/ffmpeg.js';
import { createLogger } from './log/logger.js';
import { PROJECT_ROOT, VERSION } from './version.js';

const USAGE = `vigil ${VERSION}: edge video analytics

usage:
  vigil run [--config FILE]     run the daemon (no --config: the demo config, config/demo.yaml)
  vigil config check --config FILE
                                validate a config file and print what it resolves to
  vigil --version | --help

exit codes: 0 success, 1 runtime failure, 2 bad arguments or config`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (values.version) {
    console.log(VERSION);
    return 0;
  }
  const [command, sub] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case 'run':
      return run(values.config);
    case 'config':
      if (sub !== 'check' || !values.config) throw new UsageError('usage: vigil config check --config FILE');
      console.log(JSON.stringify(loadConfig(values.config).config, null, 2));
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function run(configFile: string | undefined): Promise<number> {
  let file = configFile;
  if (!file) {
    file = path.join(PROJECT_ROOT, 'config', 'demo.yaml');
    console.error(`no --config given: running the demo config ${file}`);
    await ensureDemoClip(bundledFfmpegPath(), path.join(PROJECT_ROOT, 'data', 'demo', 'street.mp4'));
  }
  const loaded = loadConfig(file);
  const logger = createLogger(loaded.config.log.level);
  let daemon;
  try {
    daemon = await startDaemon(loaded, logger);
  } catch (err) {
    logger.fatal({ err }, (err as Error).message);
    logger.flush();
    console.error(`vigil: ${(err as Error).message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  await daemon.stop();
  logger.flush();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      console.error(err.message);
      process.exitCode = 2;
    } else if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`vigil: ${(err as Error).stack ?? err}`);
      process.exitCode = 1;
    }
  },
);
