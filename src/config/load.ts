// Reads a YAML config file, validates it against the schema and resolves paths against the file's folder.
// Every problem is reported with the field's path and the field's own description as the hint.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, isStreamUrl, type VigilConfig } from './schema.js';
import { COCO_LABELS } from '../detect/coco.js';
import { redactCredentials } from './redact.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `config ${file} is invalid:\n` + problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  file: string;
  config: VigilConfig;
}

export function loadConfig(file: string): LoadedConfig {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    throw new ConfigError(absolute, [{ path: '', message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? err})` }]);
  }
  return parseConfig(text, absolute);
}

/** Validates config text; `file` names it in errors and anchors relative paths. */
export function parseConfig(text: string, file: string): LoadedConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(file, result.error.issues.map((issue) => describeIssue(issue, raw)));
  }
  const config = result.data;
  const base = path.dirname(file);
  config.data_dir = path.resolve(base, config.data_dir);
  if (config.ffmpeg.path && config.ffmpeg.path.includes('/')) config.ffmpeg.path = path.resolve(base, config.ffmpeg.path);
  const problems: ConfigProblem[] = [];
  config.cameras.forEach((camera, i) => {
    if (isStreamUrl(camera.url)) return;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(camera.url)) {
      problems.push({
        path: `cameras[${i}].url`,
        message: `unsupported scheme in ${redactCredentials(camera.url)}; use rtsp://, rtsps://, rtmp://, http(s)://, srt://, udp:// or a file path`,
      });
      return;
    }
    const resolved = path.resolve(base, camera.url);
    if (!existsSync(resolved)) {
      problems.push({ path: `cameras[${i}].url`, message: `no such video file: ${resolved}` });
      return;
    }
    camera.url = resolved;
  });
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
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { file, config };
}

export function formatPath(parts: readonly PropertyKey[]): string {
  return parts
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem {
  const at = formatPath(issue.path);
  const field = schemaAt(ConfigSchema, issue.path);
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
      return { path: at, message: `expected ${issue.expected}, got ${describeValue(value)}${hint}` };
    }
    default:
      return { path: at, message: `${issue.message}${hint}` };
  }
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

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `string ${JSON.stringify(redactCredentials(value))}`;
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
