import { createLogger, type Logger } from '../../src/log/logger.js';

export interface MemoryLogger {
  logger: Logger;
  lines: string[];
  records(): Array<Record<string, unknown>>;
}

/** A real pino logger writing JSON lines into memory, so tests can read what vigil logged. */
export function memoryLogger(level = 'debug'): MemoryLogger {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (s: string) => void lines.push(s) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
