import { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { loadSigningKey } from '../audit/signing-key.js';

/**
 * One schema for pullgate's configuration: environment variables (the contract in DESIGN.md) plus an optional
 * YAML file named by PULLGATE_CONFIG for what does not fit in env (several upstreams, per-upstream settings).
 * Environment wins over the file. Secrets are never read from the file itself: the file names the environment
 * variables (or files) that hold them.
 */

const hostPort = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 0.0.0.0:5000')
  .transform((value, ctx) => {
    const colon = value.lastIndexOf(':');
    const port = Number(value.slice(colon + 1));
    if (port > 65535) ctx.addIssue({ code: 'custom', message: 'port must be 0-65535' });
    return { host: value.slice(0, colon).replace(/^\[|\]$/g, ''), port };
  });

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

const seconds = z.coerce.number().int().nonnegative();

const credentialsSchema = z.strictObject({
  /** Name of the environment variable holding the username. */
  usernameEnv: z.string().min(1),
  /** Name of the environment variable holding the password or token. */
  passwordEnv: z.string().min(1).optional(),
  /** Path of a file holding the password or token (mounted secret). */
  passwordFile: z.string().min(1).optional(),
});

const upstreamFileSchema = z.strictObject({
  /** The registry host clients name: containerd's `?ns=`, or the first path component `/v2/<host>/...`. */
  host: z.string().regex(/^[a-z0-9.-]+(?::\d+)?$/, 'expected a registry host such as ghcr.io or quay.io'),
  url: httpUrl,
  /** Prefix one-part repository names with `library/` (Docker Hub's official images). */
  libraryPrefix: z.boolean().optional(),
  tagTtl: seconds.optional(),
  credentials: credentialsSchema.optional(),
});

const fileSchema = z.strictObject({
  listen: z.string().optional(),
  upstream: z.string().optional(),
  upstreams: z.array(upstreamFileSchema).default([]),
  dataDir: z.string().optional(),
  policyDir: z.string().optional(),
  databaseUrl: z.string().optional(),
  tagTtl: seconds.optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  htpasswd: z.string().optional(),
  allowAnonymous: z.boolean().optional(),
  cache: z
    .strictObject({
      maxBytes: z.coerce.number().int().positive().optional(),
    })
    .optional(),
  drainSeconds: seconds.optional(),
});

const upstreamConfigSchema = z.strictObject({
  /** Key clients use to reach it: `docker.io` for the default upstream, else the configured host. */
  host: z.string(),
  /**
   * How messages and alerts name it when that is not `host`: the default upstream by its own host (e.g.
   * `127.0.0.1:15001`) unless it is Docker Hub, so an operator is never told docker.io is down.
   */
  name: z.string().optional(),
  url: z.string(),
  libraryPrefix: z.boolean(),
  tagTtlSeconds: z.number(),
  credentials: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});

const millis = z.number().int().nonnegative();

/**
 * The resolved configuration, as the app reads it: the one description of its shape (`Config` is inferred from it).
 * `loadConfig` assembles it from the environment and the file and checks the result against it.
 */
export const configSchema = z.strictObject({
  listen: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65535) }),
  defaultUpstream: upstreamConfigSchema,
  upstreams: z.array(upstreamConfigSchema),
  dataDir: z.string(),
  policyDir: z.string(),
  databaseUrl: z.string().optional(),
  /** Names this replica's records in the shared decision index (PULLGATE_REPLICA_ID, default the hostname). */
  replicaId: z.string(),
  adminToken: z.string().optional(),
  tagTtlSeconds: z.number().nonnegative(),
  logLevel: z.string(),
  htpasswdFile: z.string().optional(),
  allowAnonymous: z.boolean(),
  cacheMaxBytes: z.number().nonnegative(),
  drainSeconds: z.number().nonnegative(),
  /** Re-check tracked tags upstream every this many seconds (0 = off), with this many HEADs at once. */
  watch: z.strictObject({
    intervalSeconds: z.number().nonnegative(),
    concurrency: z.number().int().positive(),
  }),
  /** Refuse a denied manifest's HEAD with 403 too (default: the refusal comes on the GET, readable). */
  denyOnHead: z.boolean(),
  /** Off only for benchmarks: images are then served unjudged. */
  policyEnabled: z.boolean(),
  /** Start (and reload) with a policy directory that holds no policy file; off = that is an error. */
  policyAllowEmpty: z.boolean(),
  audit: z.strictObject({
    enabled: z.boolean(),
    maxFileBytes: z.number().positive(),
    maxFileAgeMs: millis,
    retentionDays: z.number().optional(),
    /** The log's identity in its checkpoints (and the signing key's name). */
    origin: z.string(),
    /** From PULLGATE_AUDIT_SIGNING_KEY_FILE; undefined: checkpoints are written unsigned. */
    signingKey: z.custom<KeyObject>((v) => v instanceof KeyObject).optional(),
    /** How often the checkpoint is brought up to date while records arrive. */
    checkpointIntervalMs: millis,
    /** The least time between two `log.checkpoint` webhook events. */
    checkpointWebhookIntervalMs: millis,
    /** How long records gather before one insert into the decision index. */
    indexBatchMs: millis,
  }),
  /** Webhook receivers for tag-mutation alerts, from PULLGATE_WEBHOOKS (JSON: the URLs may hold tokens). */
  webhooks: z.array(
    z.strictObject({ url: z.string(), format: z.enum(['json', 'slack']), secret: z.string().optional() }),
  ),
  /** PULLGATE_USERS_FILE: the console's named reviewers; without it nobody can log in to /ui/. */
  usersFile: z.string().optional(),
  /** PULLGATE_PUBLIC_URL: how reviewers reach this server (links in notifications; https => Secure cookies). */
  publicUrl: z.string().optional(),
  /** Console sessions end after this much idle time or this age (PULLGATE_UI_IDLE_SECONDS / _MAX_SECONDS). */
  session: z.strictObject({ idleSeconds: z.number().positive(), maxSeconds: z.number().positive() }),
  /** Login attempts allowed per client address and per name in a window (PULLGATE_UI_LOGIN_*). */
  loginLimit: z.strictObject({
    perAddress: z.number().int().positive(),
    perName: z.number().int().positive(),
    windowSeconds: z.number().positive(),
  }),
  manifestMaxBytes: z.number().int().positive(),
  configMaxBytes: z.number().int().positive(),
  upstreamTimeouts: z.strictObject({ connectMs: millis, headersMs: millis, bodyMs: millis }),
});

export type Config = z.infer<typeof configSchema>;
export type UpstreamConfig = z.infer<typeof upstreamConfigSchema>;
export type UpstreamCredentials = NonNullable<UpstreamConfig['credentials']>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A replica id is a name in paths and cursors: no separators, no spaces. */
const replicaIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'expected letters, digits, ".", "_" or "-" (at most 100)');

const dockerHubUrl = 'https://registry-1.docker.io';
const dockerHubHosts = new Set([
  'registry-1.docker.io',
  'index.docker.io',
  'docker.io',
  'registry.hub.docker.com',
]);

/** `docker.io` for Docker Hub, else the URL's host and port as people write it. */
export function upstreamDisplayName(url: string): string {
  const host = new URL(url).host;
  return dockerHubHosts.has(host) ? 'docker.io' : host;
}

// Upstream timeouts. undici's connect timeout bounds the TCP (and TLS) handshake; the headers timeout the wait for
// the answer's headers (a registry that accepts and hangs); the body timeout is between two body chunks, not a
// total, so a multi-GB blob over a slow link is fine while a stalled one is cut.
const defaultUpstreamTimeouts = { connect: 10, headers: 30, body: 60 };
const timeoutSeconds = z.coerce.number().positive().max(3600);
// Floating tags are re-checked with a HEAD, which Docker Hub does not count against the pull limit; 30 s keeps
// a burst of CI pulls to one upstream request while noticing an overwrite within half a minute.
const defaultTagTtlSeconds = 30;

function formatIssues(where: string, error: z.ZodError): string {
  return error.issues
    .map(
      (issue) =>
        `${where}: ${issue.path.length > 0 ? issue.path.join('.') : '(top level)'}: ${issue.message}`,
    )
    .join('\n');
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ConfigError(formatIssues(where, result.error));
  return result.data;
}

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const webhooksSchema = z.array(
  z.strictObject({
    url: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL'),
    format: z.enum(['json', 'slack']).default('json'),
    /**
     * The environment variable holding this receiver's Standard Webhooks secret (`whsec_` + base64); the
     * deliveries are then signed (webhook-id, webhook-timestamp, webhook-signature).
     */
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable')
      .optional(),
  }),
);

function parseWebhooks(
  text: string | undefined,
  env: NodeJS.ProcessEnv,
): { url: string; format: 'json' | 'slack'; secret?: string | undefined }[] {
  if (text === undefined || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(
      'environment PULLGATE_WEBHOOKS: expected a JSON array of {"url": ..., "format": "json"|"slack"}',
    );
  }
  // The message names the place, never the URL itself: a Slack webhook URL is a credential.
  const result = webhooksSchema.safeParse(json);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues
        .map((i) => `environment PULLGATE_WEBHOOKS: ${i.path.join('.') || '(top level)'}: ${i.message}`)
        .join('\n'),
    );
  }
  return result.data.map(({ secretEnv, ...r }, i) => {
    if (secretEnv === undefined) return r;
    const secret = env[secretEnv];
    if (secret === undefined || secret === '')
      throw new ConfigError(`environment PULLGATE_WEBHOOKS: ${i}.secretEnv: ${secretEnv} is not set`);
    return { ...r, secret };
  });
}

/** A C2SP note key name: no spaces, no `+`, no control characters (it is the first line of every checkpoint). */
const auditOrigin = z
  .string()
  .min(1)
  .max(255)
  .regex(
    /^[^\s+\p{Cc}]+$/u,
    'expected a name without spaces or "+", e.g. pullgate.example.com/replica-1/decisions',
  );

function signingKey(file: string | undefined, dataDir: string, cwd: string): KeyObject | undefined {
  if (file === undefined || file === '') return undefined;
  const path = isAbsolute(file) ? file : resolve(cwd, file);
  const loaded = loadSigningKey(path, dataDir);
  if (!loaded.ok)
    throw new ConfigError(`environment PULLGATE_AUDIT_SIGNING_KEY_FILE: ${path} ${loaded.problem}`);
  return loaded.key;
}

function envKey(host: string): string {
  return host.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Credentials from the environment: PULLGATE_UPSTREAM[_<HOST>]_USERNAME and _PASSWORD or _PASSWORD_FILE. */
function envCredentials(env: NodeJS.ProcessEnv, prefix: string): UpstreamCredentials | undefined {
  const username = env[`${prefix}_USERNAME`];
  const passwordFile = env[`${prefix}_PASSWORD_FILE`];
  const password =
    env[`${prefix}_PASSWORD`] ??
    (passwordFile ? readSecretFile(passwordFile, `${prefix}_PASSWORD_FILE`) : undefined);
  if (username === undefined && password === undefined) return undefined;
  if (!username || password === undefined) {
    throw new ConfigError(
      `${prefix}_USERNAME and ${prefix}_PASSWORD (or _PASSWORD_FILE) must be set together`,
    );
  }
  return { username, password };
}

function fileCredentials(
  env: NodeJS.ProcessEnv,
  credentials: z.infer<typeof credentialsSchema> | undefined,
  where: string,
): UpstreamCredentials | undefined {
  if (credentials === undefined) return undefined;
  const username = env[credentials.usernameEnv];
  if (!username)
    throw new ConfigError(`${where}.credentials.usernameEnv: ${credentials.usernameEnv} is not set`);
  if (credentials.passwordFile)
    return { username, password: readSecretFile(credentials.passwordFile, where) };
  if (credentials.passwordEnv) {
    const password = env[credentials.passwordEnv];
    if (password === undefined) {
      throw new ConfigError(`${where}.credentials.passwordEnv: ${credentials.passwordEnv} is not set`);
    }
    return { username, password };
  }
  throw new ConfigError(`${where}.credentials: needs passwordEnv or passwordFile`);
}

/** PULLGATE_UPSTREAM_{CONNECT,HEADERS,BODY}_TIMEOUT: seconds (fractions allowed), for every upstream. */
function upstreamTimeout(env: NodeJS.ProcessEnv, which: string, seconds: number): number {
  const name = `PULLGATE_UPSTREAM_${which}_TIMEOUT`;
  return Math.round(parseOrThrow(timeoutSeconds, env[name] ?? seconds, `environment ${name}`) * 1000);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const file = env.PULLGATE_CONFIG;
  let fromFile: z.infer<typeof fileSchema> = { upstreams: [] };
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    fromFile = parseOrThrow(fileSchema, doc, file);
  }
  const where = (name: string) => `environment ${name}`;
  const listen = parseOrThrow(
    hostPort,
    env.PULLGATE_LISTEN ?? fromFile.listen ?? '0.0.0.0:5000',
    where('PULLGATE_LISTEN'),
  );
  const upstreamUrl = parseOrThrow(
    httpUrl,
    env.PULLGATE_UPSTREAM ?? fromFile.upstream ?? dockerHubUrl,
    where('PULLGATE_UPSTREAM'),
  );
  const tagTtlSeconds = parseOrThrow(
    seconds,
    env.PULLGATE_TAG_TTL ?? fromFile.tagTtl ?? defaultTagTtlSeconds,
    where('PULLGATE_TAG_TTL'),
  );
  const databaseUrl = env.PULLGATE_DATABASE_URL ?? fromFile.databaseUrl;
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(?:ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`${where('PULLGATE_DATABASE_URL')}: expected a postgres:// URL`);
  }

  const upstreams: UpstreamConfig[] = fromFile.upstreams.map((u, i) => ({
    host: u.host,
    url: u.url,
    libraryPrefix: u.libraryPrefix ?? u.host === 'docker.io',
    tagTtlSeconds: u.tagTtl ?? tagTtlSeconds,
    credentials:
      fileCredentials(env, u.credentials, `${file}: upstreams.${i}`) ??
      envCredentials(env, `PULLGATE_UPSTREAM_${envKey(u.host)}`),
  }));
  // PULLGATE_UPSTREAMS="ghcr.io=https://ghcr.io,quay.io=https://quay.io": extra upstreams without a file.
  for (const entry of (env.PULLGATE_UPSTREAMS ?? '').split(',').filter((s) => s.trim() !== '')) {
    const eq = entry.indexOf('=');
    const host = entry.slice(0, eq).trim();
    const u = parseOrThrow(
      upstreamFileSchema,
      { host, url: entry.slice(eq + 1).trim() },
      where(`PULLGATE_UPSTREAMS (${host || entry})`),
    );
    upstreams.push({
      host: u.host,
      url: u.url,
      libraryPrefix: false,
      tagTtlSeconds,
      credentials: envCredentials(env, `PULLGATE_UPSTREAM_${envKey(u.host)}`),
    });
  }
  const seen = new Set<string>(['docker.io']);
  for (const u of upstreams) {
    if (seen.has(u.host)) throw new ConfigError(`upstream host ${u.host} is configured twice`);
    seen.add(u.host);
  }

  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const dataDir = abs(env.PULLGATE_DATA_DIR ?? fromFile.dataDir ?? './data');
  const replicaId = parseOrThrow(
    replicaIdSchema,
    env.PULLGATE_REPLICA_ID ?? hostname(),
    where('PULLGATE_REPLICA_ID'),
  );
  const config: Config = {
    listen,
    defaultUpstream: {
      host: 'docker.io',
      name: upstreamDisplayName(upstreamUrl),
      url: upstreamUrl,
      // The default upstream answers for docker.io, whose one-part names are official images under library/.
      libraryPrefix: env.PULLGATE_UPSTREAM_LIBRARY_PREFIX !== 'false',
      tagTtlSeconds,
      credentials: envCredentials(env, 'PULLGATE_UPSTREAM'),
    },
    upstreams,
    dataDir,
    policyDir: abs(env.PULLGATE_POLICY_DIR ?? fromFile.policyDir ?? './policies'),
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    replicaId,
    adminToken: env.PULLGATE_ADMIN_TOKEN === '' ? undefined : env.PULLGATE_ADMIN_TOKEN,
    tagTtlSeconds,
    logLevel: env.PULLGATE_LOG_LEVEL ?? fromFile.logLevel ?? 'info',
    htpasswdFile: env.PULLGATE_HTPASSWD ?? fromFile.htpasswd,
    allowAnonymous: (env.PULLGATE_ALLOW_ANONYMOUS ?? String(fromFile.allowAnonymous ?? true)) !== 'false',
    cacheMaxBytes: parseOrThrow(
      z.coerce.number().int().positive(),
      env.PULLGATE_CACHE_MAX_BYTES ?? fromFile.cache?.maxBytes ?? 20 * 1024 ** 3,
      where('PULLGATE_CACHE_MAX_BYTES'),
    ),
    drainSeconds: parseOrThrow(
      seconds,
      env.PULLGATE_DRAIN_SECONDS ?? fromFile.drainSeconds ?? 25,
      where('PULLGATE_DRAIN_SECONDS'),
    ),
    watch: {
      intervalSeconds: parseOrThrow(
        seconds,
        env.PULLGATE_WATCH_INTERVAL ?? 0,
        where('PULLGATE_WATCH_INTERVAL'),
      ),
      concurrency: parseOrThrow(
        z.coerce.number().int().min(1).max(64),
        env.PULLGATE_WATCH_CONCURRENCY ?? 4,
        where('PULLGATE_WATCH_CONCURRENCY'),
      ),
    },
    denyOnHead: parseOrThrow(flag, env.PULLGATE_DENY_ON_HEAD ?? 'false', where('PULLGATE_DENY_ON_HEAD')),
    policyEnabled: parseOrThrow(
      flag,
      env.PULLGATE_POLICY_ENABLED ?? 'true',
      where('PULLGATE_POLICY_ENABLED'),
    ),
    policyAllowEmpty: parseOrThrow(
      flag,
      env.PULLGATE_POLICY_ALLOW_EMPTY ?? 'false',
      where('PULLGATE_POLICY_ALLOW_EMPTY'),
    ),
    audit: {
      enabled: parseOrThrow(flag, env.PULLGATE_AUDIT_ENABLED ?? 'true', where('PULLGATE_AUDIT_ENABLED')),
      indexBatchMs: parseOrThrow(
        z.coerce.number().int().min(1).max(60_000),
        env.PULLGATE_AUDIT_INDEX_BATCH_MS ?? 200,
        where('PULLGATE_AUDIT_INDEX_BATCH_MS'),
      ),
      maxFileBytes: parseOrThrow(
        z.coerce.number().int().min(4096),
        env.PULLGATE_AUDIT_MAX_FILE_BYTES ?? 64 * 1024 * 1024,
        where('PULLGATE_AUDIT_MAX_FILE_BYTES'),
      ),
      maxFileAgeMs:
        parseOrThrow(
          seconds,
          env.PULLGATE_AUDIT_MAX_FILE_AGE_HOURS ?? 24,
          where('PULLGATE_AUDIT_MAX_FILE_AGE_HOURS'),
        ) * 3600_000,
      retentionDays:
        env.PULLGATE_AUDIT_RETENTION_DAYS === undefined
          ? undefined
          : parseOrThrow(
              z.coerce.number().int().positive(),
              env.PULLGATE_AUDIT_RETENTION_DAYS,
              where('PULLGATE_AUDIT_RETENTION_DAYS'),
            ),
      origin: parseOrThrow(
        auditOrigin,
        // The replica's chain is named by the replica (its checkpoints, and the index rows, carry the same id).
        env.PULLGATE_AUDIT_ORIGIN ?? `pullgate/${replicaId}/decisions`,
        where('PULLGATE_AUDIT_ORIGIN'),
      ),
      signingKey: signingKey(env.PULLGATE_AUDIT_SIGNING_KEY_FILE, dataDir, cwd),
      checkpointIntervalMs: 1000,
      checkpointWebhookIntervalMs: 60_000,
    },
    webhooks: parseWebhooks(env.PULLGATE_WEBHOOKS, env),
    usersFile:
      env.PULLGATE_USERS_FILE === '' || env.PULLGATE_USERS_FILE === undefined
        ? undefined
        : abs(env.PULLGATE_USERS_FILE),
    publicUrl:
      env.PULLGATE_PUBLIC_URL === undefined || env.PULLGATE_PUBLIC_URL === ''
        ? undefined
        : parseOrThrow(httpUrl, env.PULLGATE_PUBLIC_URL, where('PULLGATE_PUBLIC_URL')),
    session: {
      idleSeconds: parseOrThrow(
        z.coerce.number().int().min(1),
        env.PULLGATE_UI_IDLE_SECONDS ?? 30 * 60,
        where('PULLGATE_UI_IDLE_SECONDS'),
      ),
      maxSeconds: parseOrThrow(
        z.coerce.number().int().min(1),
        env.PULLGATE_UI_MAX_SECONDS ?? 12 * 3600,
        where('PULLGATE_UI_MAX_SECONDS'),
      ),
    },
    loginLimit: {
      perAddress: parseOrThrow(
        z.coerce.number().int().min(1),
        env.PULLGATE_UI_LOGIN_PER_ADDRESS ?? 30,
        where('PULLGATE_UI_LOGIN_PER_ADDRESS'),
      ),
      perName: parseOrThrow(
        z.coerce.number().int().min(1),
        env.PULLGATE_UI_LOGIN_PER_NAME ?? 5,
        where('PULLGATE_UI_LOGIN_PER_NAME'),
      ),
      windowSeconds: parseOrThrow(
        z.coerce.number().int().min(1),
        env.PULLGATE_UI_LOGIN_WINDOW_SECONDS ?? 15 * 60,
        where('PULLGATE_UI_LOGIN_WINDOW_SECONDS'),
      ),
    },
    // distribution-spec: registries SHOULD accept manifests up to 4 MiB; a proxy need not read more.
    manifestMaxBytes: 4 * 1024 * 1024,
    // The largest image config pullgate reads to judge it (and the largest JSON blob it judges by digest).
    configMaxBytes: parseOrThrow(
      z.coerce
        .number()
        .int()
        .min(64 * 1024)
        .max(256 * 1024 * 1024),
      env.PULLGATE_CONFIG_MAX_BYTES ?? 8 * 1024 * 1024,
      where('PULLGATE_CONFIG_MAX_BYTES'),
    ),
    upstreamTimeouts: {
      connectMs: upstreamTimeout(env, 'CONNECT', defaultUpstreamTimeouts.connect),
      headersMs: upstreamTimeout(env, 'HEADERS', defaultUpstreamTimeouts.headers),
      bodyMs: upstreamTimeout(env, 'BODY', defaultUpstreamTimeouts.body),
    },
  };
  // The assembled shape checked once against the schema the rest of pullgate reads (a field built wrong fails start-up
  // here, naming the field, instead of misbehaving later).
  const checked = configSchema.safeParse(config);
  if (!checked.success) {
    throw new ConfigError(
      checked.error.issues.map((i) => `configuration ${i.path.join('.')}: ${i.message}`).join('\n'),
    );
  }
  return checked.data;
}
