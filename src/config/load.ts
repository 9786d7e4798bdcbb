// Reads a YAML config file, validates it against the schema and resolves paths against the file's folder.
// Every problem is reported with the field's path and the field's own description as the hint.
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, isStreamUrl, type VigilConfig } from './schema.js';
import { COCO_LABELS } from '../vocabulary/labels.js';
import { redactCredentials, redactUrl } from './redact.js';

/** A config file lists cameras and settings: a few KB. Anything this big is the wrong file or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Alias expansions YAML may make (yaml's count: uses of an alias times its size); the "billion laughs" need millions. */
const MAX_ALIAS_COUNT = 100;
/** YAML problems listed at most: a binary or truncated file would otherwise give one per line. */
const MAX_PROBLEMS = 10;

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(
    readonly file: string,
    problems: ConfigProblem[],
  ) {
    super(`config ${file} is invalid:\n` + redactProblems(problems).map((p) => `  ${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = redactProblems(problems);
  }
}

/** Messages quote values and keys from the file: whatever the check, a credential goes no further. */
function redactProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.map((p) => ({ path: p.path, message: redactCredentials(p.message) }));
}

export interface LoadedConfig {
  file: string;
  config: VigilConfig;
}

export function loadConfig(file: string): LoadedConfig {
  const absolute = path.resolve(file);
  return parseConfig(readConfigText(absolute), absolute);
}

/**
 * Reads at most MAX_CONFIG_BYTES of UTF-8 text. The size is checked before reading; devices and pipes
 * (/dev/zero, a bash <(...)) have none, so reading stops one byte past the limit.
 */
function readConfigText(file: string): string {
  const refuse = (message: string) => new ConfigError(file, [{ path: '', message }]);
  const cannot = (err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return refuse('no such file: check the path (relative paths are from the current folder), or run without --config for the demo');
    if (code === 'EACCES') return refuse('permission denied: run as a user that may read it (the service user, or with sudo)');
    return refuse(`cannot read the file (${code ?? err})`);
  };
  let fd: number;
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) throw refuse('is a directory, not a config file');
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) {
      throw refuse(`the file is ${mebibytes(stat.size)}; a config file may be at most ${mebibytes(MAX_CONFIG_BYTES)} (is it the right file?)`);
    }
    fd = openSync(file, 'r');
  } catch (err) {
    throw err instanceof ConfigError ? err : cannot(err);
  }
  const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
  let length = 0;
  try {
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
  } catch (err) {
    throw cannot(err);
  } finally {
    closeSync(fd);
  }
  if (length > MAX_CONFIG_BYTES) throw refuse(`the file is over the ${mebibytes(MAX_CONFIG_BYTES)} a config file may be (is it the right file?)`);
  const bytes = buffer.subarray(0, length);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw refuse(`binary data (a NUL byte at byte ${nul}), not a YAML text file`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refuse('not UTF-8 text: is it the right file?');
  }
}

function videoFileProblem(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'is not a file (a camera URL or a video file is needed)';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`;
  }
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 3 : 1).replace(/\.?0+$/, '')} MiB`;
}

/**
 * Validates config text; `file` names it in errors and anchors relative paths. Whatever the text, the
 * only exception is a ConfigError (the command line exits 2 with it; a reload keeps the running config).
 */
export function parseConfig(text: string, file: string): LoadedConfig {
  try {
    return parseText(text, file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    // Nesting deep enough to exhaust the stack in the parser, toJS or the schema.
    if (err instanceof RangeError) throw new ConfigError(file, [{ path: '', message: NESTED_TOO_DEEP }]);
    throw new ConfigError(file, [{ path: '', message: `cannot read the config: ${(err as Error).message ?? err}` }]);
  }
}

/**
 * Flow collections ([...], {...}) nested deeper than this are refused before parsing: the parser takes
 * seconds over a megabyte of them and then runs out of stack. Block nesting is bounded by the file size.
 */
const MAX_FLOW_DEPTH = 64;

/**
 * The line where '[' and '{' first nest deeper than `limit`, outside quotes and comments. A bracket inside
 * a plain scalar (location: stall [3) may be miscounted; it takes 64 of them to matter.
 */
function flowNestingOver(text: string, limit: number): number | undefined {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '[' || c === '{') {
      if (++depth > limit) return line;
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      for (i++; i < text.length && text[i] !== c; i++) {
        if (text[i] === '\n') line++;
        else if (c === '"' && text[i] === '\\') i++;
      }
    }
  }
  return undefined;
}

const NESTED_TOO_DEEP = 'YAML nested too deeply (lists or mappings inside one another hundreds of times); a vigil config needs fewer than 10 levels';

function parseText(text: string, file: string): LoadedConfig {
  const config = validateConfig(ConfigSchema, readYaml(text, file), file);
  return { file, config: checkBoxConfig(config, file) };
}

/**
 * A YAML config read with every guard of the box's (size, nesting, alias bombs) and checked against `schema`,
 * each problem named with its field's path and description: the box's and the hub's configs alike.
 */
export function parseConfigWith<S extends z.ZodType>(schema: S, text: string, file: string): z.infer<S> {
  try {
    return validateConfig(schema, readYaml(text, file), file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof RangeError) throw new ConfigError(file, [{ path: '', message: NESTED_TOO_DEEP }]);
    throw new ConfigError(file, [{ path: '', message: `cannot read the config: ${(err as Error).message ?? err}` }]);
  }
}

/** The text of a config file, read with the box's guards (size, devices, permissions). */
export function readConfigFile(file: string): string {
  return readConfigText(path.resolve(file));
}

function validateConfig<S extends z.ZodType>(schema: S, raw: unknown, file: string): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(file, result.error.issues.map((issue) => describeIssue(schema as unknown as AnySchema, issue, raw)));
  }
  return result.data;
}

function readYaml(text: string, file: string): unknown {
  const deep = flowNestingOver(text, MAX_FLOW_DEPTH);
  if (deep !== undefined) {
    throw new ConfigError(file, [{ path: '', message: `YAML nested more than ${MAX_FLOW_DEPTH} levels deep (line ${deep}); a vigil config needs fewer than 10 levels` }]);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const messages = [...new Set(doc.errors.map((e) => {
      const first = e.message.split('\n')[0]!;
      if (/Maximum call stack/i.test(first)) return NESTED_TOO_DEEP;
      // yaml's message ends "at line L, column C" only with prettyErrors; say it always, first.
      const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
      return `YAML syntax, ${where}${first.replace(/ at line \d+, column \d+:?$/, '')}`;
    }))];
    const shown = messages.slice(0, MAX_PROBLEMS).map((message) => ({ path: '', message }));
    if (messages.length > MAX_PROBLEMS) shown.push({ path: '', message: `... and ${messages.length - MAX_PROBLEMS} more YAML problems` });
    throw new ConfigError(file, shown);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError(file, [{
      path: '',
      message: `YAML aliases (*name) expand to too many copies (yaml's limit: ${MAX_ALIAS_COUNT}), as in an "alias bomb"; write the values out`,
    }]);
  }
}

/** What the schema cannot say of a box's config: paths resolved and present, URLs, tokens, labels. */
function checkBoxConfig(config: VigilConfig, file: string): VigilConfig {
  const base = path.dirname(file);
  config.data_dir = path.resolve(base, config.data_dir);
  if (config.ffmpeg.path && config.ffmpeg.path.includes('/')) config.ffmpeg.path = path.resolve(base, config.ffmpeg.path);
  const problems: ConfigProblem[] = [];
  config.cameras.forEach((camera, i) => {
    if (isStreamUrl(camera.url)) return;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(camera.url)) {
      problems.push({
        path: `cameras[${i}].url`,
        message: `unsupported scheme in ${redactUrl(camera.url)}; use rtsp://, rtsps://, rtmp://, http(s)://, srt://, udp:// or a file path`,
      });
      return;
    }
    const resolved = path.resolve(base, camera.url);
    if (existsSync(resolved)) {
      // What `run` would trip over later: a folder, or a file this user may not read.
      const unusable = videoFileProblem(resolved);
      if (unusable) problems.push({ path: `cameras[${i}].url`, message: `${redactUrl(resolved)} ${unusable}` });
      camera.url = resolved;
      return;
    }
    // rtsp:/user:pass@host, rtsp:user:pass@host, rtsp//host: a URL with a typo, not a file name.
    const scheme = /^(rtsps?|rtmps?|https?|srt|udp|tcp)(?=[:;./\\])/i.exec(camera.url)?.[1];
    problems.push({
      path: `cameras[${i}].url`,
      message: scheme
        ? `${redactUrl(camera.url)} is not a valid URL: it must start with "${scheme.toLowerCase()}://" (a colon and two slashes)`
        : `no such video file: ${redactUrl(resolved)}`,
    });
  });
  checkTokens(config.api.tokens, problems);
  const model = config.detector.model;
  if (typeof model === 'object') {
    model.path = path.resolve(base, model.path);
    if (!existsSync(model.path)) problems.push({ path: 'detector.model.path', message: `no such model file: ${model.path}` });
  }
  const labels = typeof model === 'object' ? (model.labels ?? COCO_LABELS) : COCO_LABELS;
  config.detector.classes.forEach((label, i) => {
    if (labels.includes(label)) return;
    const guess = closest(label, labels);
    problems.push({
      path: `detector.classes[${i}]`,
      message: `unknown label "${label}"` + (guess ? `; did you mean "${guess}"?` : '; use the model\'s label names, e.g. person, car, motorcycle'),
    });
  });
  for (const label of Object.keys(config.detector.class_thresholds)) {
    if (config.detector.classes.includes(label)) continue;
    const guess = closest(label, config.detector.classes);
    problems.push({
      path: `detector.class_thresholds.${label}`,
      message: `"${label}" is not one of detector.classes (${config.detector.classes.join(', ')})` + (guess ? `; did you mean "${guess}"?` : ''),
    });
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return config;
}

/** Each API token has its own name and value: the audit log records who by the token's name. */
export function checkTokens(tokens: VigilConfig['api']['tokens'], problems: ConfigProblem[]): void {
  if (!Array.isArray(tokens)) return;
  const names = new Map<string, number>();
  const values = new Map<string, number>();
  tokens.forEach((entry, i) => {
    const sameName = names.get(entry.name);
    if (sameName === undefined) names.set(entry.name, i);
    else problems.push({ path: `api.tokens[${i}].name`, message: `duplicate token name "${entry.name}" (also api.tokens[${sameName}].name); names must be unique, the audit log tells users apart by them` });
    const sameValue = values.get(entry.token);
    if (sameValue === undefined) values.set(entry.token, i);
    else problems.push({ path: `api.tokens[${i}].token`, message: `the same token as api.tokens[${sameValue}] ("${tokens[sameValue]!.name}"); give each name its own token` });
  });
}

export function formatPath(parts: readonly PropertyKey[]): string {
  return parts
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function describeIssue(root: AnySchema, issue: z.core.$ZodIssue, raw: unknown): ConfigProblem {
  const at = formatPath(issue.path);
  const field = schemaAt(root, issue.path);
  const hint = field?.description ? ` (${field.description})` : '';
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = field ? knownKeys(field) : [];
      return {
        path: at,
        message: issue.keys
          .map((key) => {
            const guess = closest(key, known);
            return `unknown key "${key}"` + (guess ? `; did you mean "${guess}"?` : known.length ? `; known keys: ${known.join(', ')}` : '');
          })
          .join('; '),
      };
    }
    case 'invalid_type': {
      const value = valueAt(raw, issue.path);
      if (value === undefined) return { path: at, message: `missing; expected ${issue.expected}${hint}` };
      return { path: at, message: `expected ${issue.expected}, got ${describeValue(value, issue.path)}${hint}` };
    }
    case 'too_big':
    case 'too_small': {
      // zod says "Too big: expected number to be <=1"; say what the field allows, in the field's words.
      const bound = (issue as { maximum?: unknown; minimum?: unknown }).maximum ?? (issue as { minimum?: unknown }).minimum;
      const inclusive = (issue as { inclusive?: boolean }).inclusive !== false;
      const numeric = (issue as { origin?: string }).origin === 'number';
      if (numeric && bound !== undefined) {
        const value = valueAt(raw, issue.path);
        const words = issue.code === 'too_big' ? (inclusive ? 'at most' : 'less than') : (inclusive ? 'at least' : 'more than');
        return { path: at, message: `must be ${words} ${String(bound)}${value === undefined ? '' : `, got ${describeValue(value, issue.path)}`}${hint}` };
      }
      return { path: at, message: withHint(issue.message, hint) };
    }
    default:
      if (at === 'time_zone' && typeof valueAt(raw, issue.path) === 'string') {
        const guess = closest(String(valueAt(raw, issue.path)), Intl.supportedValuesOf('timeZone'));
        return { path: at, message: `${issue.message}${guess ? `; did you mean "${guess}"?` : ''}` };
      }
      return { path: at, message: withHint(issue.message, hint) };
  }
}

/** The field's description as a hint, unless the message already says the same (its example). */
function withHint(message: string, hint: string): string {
  if (!hint) return message;
  const example = /e\.g\. ([^)]+)\)$/.exec(hint)?.[1];
  return example && message.includes(example) ? message : `${message}${hint}`;
}

type AnySchema = z.core.$ZodType & { description?: string };

function schemaAt(root: AnySchema, parts: readonly PropertyKey[]): AnySchema | undefined {
  let node: AnySchema | undefined = root;
  for (const part of parts) {
    node = node && unwrap(node);
    if (!node) return undefined;
    const def = node._zod.def as unknown as Record<string, unknown>;
    if (def.type === 'object' && typeof part === 'string') node = (def.shape as Record<string, AnySchema>)[part];
    else if (def.type === 'array') node = def.element as AnySchema;
    else return undefined;
  }
  return node;
}

function unwrap(node: AnySchema): AnySchema {
  let current = node;
  for (;;) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (def.innerType) current = def.innerType as AnySchema;
    else if (def.type === 'pipe') current = def.in as AnySchema;
    else return current;
  }
}

function knownKeys(node: AnySchema): string[] {
  const def = unwrap(node)._zod.def as unknown as Record<string, unknown>;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

function valueAt(raw: unknown, parts: readonly PropertyKey[]): unknown {
  let node: unknown = raw;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

// Fields holding a secret, anywhere in the config (api.tokens[0].token, a key or password of a future section):
// a value there is described, never quoted, however it is mistyped.
const SECRET_FIELD = /^(tokens?|.*secret.*|.*_?key|password|passphrase)$/i;

function describeValue(value: unknown, at: readonly PropertyKey[]): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    if (at.some((part) => typeof part === 'string' && SECRET_FIELD.test(part))) return `a string of ${value.length} characters (not shown: a secret)`;
    // Redacted as a whole first: cutting a URL short could cut off the '@' that marks its password.
    const shown = at.at(-1) === 'url' ? redactUrl(value) : redactCredentials(value);
    return `string ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}

/** The known key within edit distance 2 of an unknown one, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
