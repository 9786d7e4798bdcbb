// A station hub's config (vigil hub --config FILE): where its PostgreSQL is, which boxes it replicates and with
// which tokens, its own API (the same shape as a box's), where it keeps attachments, and its retention. Read and
// checked with the box's guards and messages (config/load.ts); exit 2 on a mistake.
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, checkTokens, parseConfigWith, readConfigFile, type ConfigProblem } from '../config/load.js';
import { redactUrl } from '../config/redact.js';
import { ApiSchema, AuditSchema, curveKey, isCurvePair, LogSchema, TimeZoneSchema, WindowMinutesSchema } from '../config/schema.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const BoxSchema = z.strictObject({
  name: z.string().regex(NAME, { message: 'a short name of letters, digits, "-", "_" or ".", e.g. north or box-2' })
    .describe('the box\'s name at the hub: events, cameras and metrics carry it; renaming it starts the box afresh'),
  url: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'the box\'s HTTP API, e.g. http://10.0.0.11:8080' })
    .describe('the box\'s HTTP API, e.g. http://10.0.0.11:8080'),
  token: z.string().min(16, { message: 'a token the box accepts (at least 16 characters), of scope replicate: see the box\'s api.tokens' })
    .describe('a token the box accepts, of scope replicate (the box\'s api.tokens: { name: hub, token, scopes: [replicate] })'),
  bus: z
    .strictObject({
      endpoint: z.string().regex(/^tcp:\/\/.+:\d+$/, { message: 'the box\'s bus.publish endpoint as the hub reaches it, e.g. tcp://10.0.0.11:5556' })
        .describe('the box\'s ZeroMQ bus as the hub reaches it, e.g. tcp://10.0.0.11:5556'),
      server_key: curveKey('the box\'s bus.curve.public_key, when its bus uses CURVE').nullable().default(null),
    })
    .nullable()
    .default(null)
    .describe('the box\'s event bus, for low latency: { endpoint, server_key }; without it the hub polls /api/changes'),
});

export const HubConfigSchema = z
  .strictObject({
    database: z
      .strictObject({
        url: z.string().regex(/^postgres(ql)?:\/\/[^\s]+$/, { message: 'a PostgreSQL URL: postgres://user:password@host:5432/database' })
          .describe('the hub\'s PostgreSQL: postgres://user:password@host:port/database'),
        pool: z.number().int().min(2).max(100).default(8).describe('connections to PostgreSQL at most (searches and replication share them)'),
      })
      .describe('the hub\'s PostgreSQL: { url, pool }'),
    boxes: z.array(BoxSchema).min(1, { message: 'list at least one box: { name, url, token }' }).max(500).describe('the boxes this hub replicates'),
    api: ApiSchema.default(ApiSchema.parse({ port: 8090 })),
    audit: AuditSchema.default(AuditSchema.parse({})),
    data_dir: z.string().min(1).default('./hub-data').describe('where the hub keeps attachments (snapshots by SHA-256), its audit log and token, relative to the config file'),
    time_zone: TimeZoneSchema,
    search: z.strictObject({
      window_minutes: WindowMinutesSchema,
    }).default({ window_minutes: 30 }).describe('search: { window_minutes }'),
    store: z
      .strictObject({
        retention_days: z.number().min(0.01).max(36_500).default(365).describe('events older than this are deleted at the hub with their attachments (the boxes keep their own)'),
        max_disk_gb: z.number().min(0.01).max(1_000_000).default(500).describe('disk budget for the hub\'s database and attachments; the oldest go first'),
      })
      .default({ retention_days: 365, max_disk_gb: 500 })
      .describe('the hub\'s store: { retention_days, max_disk_gb }'),
    replication: z
      .strictObject({
        poll_s: z.number().min(0.1).max(300).default(2).describe('seconds between /api/changes polls when the bus brings nothing (the bus, when configured, brings events sooner)'),
        batch: z.number().int().min(1).max(2000).default(500).describe('changes per /api/changes request and per PostgreSQL transaction'),
        timeout_s: z.number().min(1).max(300).default(15).describe('seconds a request to a box may take before the box counts as down'),
        backoff_max_s: z.number().min(1).max(3600).default(30).describe('longest wait between retries of a box that is down'),
      })
      .default({ poll_s: 2, batch: 500, timeout_s: 15, backoff_max_s: 30 })
      .describe('how the hub pulls: { poll_s, batch, timeout_s, backoff_max_s }'),
    bus: z
      .strictObject({
        public_key: curveKey('the hub\'s own CURVE public key (from `vigil bus keys`); list it in each box\'s bus.curve.clients'),
        secret_key: curveKey('the hub\'s CURVE secret key, from the same `vigil bus keys` output'),
      })
      .nullable()
      .default(null)
      .describe('the hub\'s CURVE key pair, for boxes whose bus uses CURVE: { public_key, secret_key }'),
    log: LogSchema,
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.boxes.forEach((box, i) => {
      const first = seen.get(box.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['boxes', i, 'name'], message: `duplicate box name "${box.name}" (also boxes[${first}].name); names must be unique` });
      else seen.set(box.name, i);
      if (box.bus?.server_key && !config.bus) {
        ctx.addIssue({ code: 'custom', path: ['boxes', i, 'bus', 'server_key'], message: 'a CURVE bus needs the hub\'s own key pair too: set bus: { public_key, secret_key } (from `vigil bus keys`) and list the public key in the box\'s bus.curve.clients' });
      }
    });
    if (config.bus && !isCurvePair(config.bus)) {
      ctx.addIssue({ code: 'custom', path: ['bus', 'public_key'], message: 'is not the public half of bus.secret_key: paste both lines from one `vigil bus keys` output' });
    }
  });

export type HubConfig = z.infer<typeof HubConfigSchema>;
export type HubBoxConfig = HubConfig['boxes'][number];

export interface LoadedHubConfig {
  file: string;
  config: HubConfig;
}

export function loadHubConfig(file: string): LoadedHubConfig {
  const absolute = path.resolve(file);
  return parseHubConfig(readConfigFile(absolute), absolute);
}

export function parseHubConfig(text: string, file: string): LoadedHubConfig {
  const config = parseConfigWith(HubConfigSchema, text, file);
  config.data_dir = path.resolve(path.dirname(file), config.data_dir);
  const problems: ConfigProblem[] = [];
  checkTokens(config.api.tokens, problems);
  config.boxes.forEach((box, i) => {
    try {
      new URL(box.url);
    } catch {
      problems.push({ path: `boxes[${i}].url`, message: `${redactUrl(box.url)} is not a URL: e.g. http://10.0.0.11:8080` });
    }
  });
  if (problems.length) throw new ConfigError(file, problems);
  return { file, config };
}
