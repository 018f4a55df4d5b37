import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PortInUseError, withFreePort } from './ports.js';
import { type Daemon, run, startProcess, waitForLog, waitForUrl } from './proc.js';
import { makeTempDir, type TempDir } from './tmp.js';
import {
  type Credentials,
  startTokenServer,
  type TokenServer,
  type TokenServerOptions,
} from './token-server.js';

export type { Credentials } from './token-server.js';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /** Pull-through cache mode: `proxy: {remoteurl}` (distribution docs/recipes/mirror.md). */
  proxyRemoteUrl?: string;
  /** Credentials the pull-through registry presents to its remote. */
  proxyCredentials?: Credentials;
  /** For auth 'basic' and 'token'; default: a generated user and password. */
  credentials?: Credentials;
  /** Listen on this port instead of a free one; a taken port rejects with PortInUseError. */
  port?: number;
  /** For auth 'token': passed to the token server (e.g. `{ anonymous: false }`). */
  token?: Omit<TokenServerOptions, 'credentials'>;
}

export interface AccessLogEntry {
  method: string;
  /** The request path without the query string. */
  path: string;
  /** The request target as logged, query included. */
  uri: string;
  status: number;
  userAgent: string;
}

/** What the push/fetch helpers need to reach a registry. */
export interface RegistryTarget {
  url: string;
  host: string;
  credentials?: Credentials;
}

export interface Registry extends RegistryTarget {
  port: number;
  auth: RegistryAuth;
  dataDir: string;
  logPath: string;
  tokenServer?: TokenServer;
  accessLog(): Promise<AccessLogEntry[]>;
  /** Polls the access log until `predicate` matches one entry (log lines land just after the response). */
  waitForAccess(predicate: (e: AccessLogEntry) => boolean, timeoutMs?: number): Promise<AccessLogEntry[]>;
  stop(): Promise<void>;
}

// gorilla/handlers combined log format, written by distribution for every request.
const ACCESS_LINE = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) [^"]*" (\d{3}) \S+ "[^"]*" "([^"]*)"$/;

export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = ACCESS_LINE.exec(line);
    if (m === null) continue;
    const [, method = '', uri = '', status = '0', userAgent = ''] = m;
    const q = uri.indexOf('?');
    out.push({ method, uri, path: q < 0 ? uri : uri.slice(0, q), status: Number(status), userAgent });
  }
  return out;
}

async function launch(dir: TempDir, config: Record<string, unknown>, port: number): Promise<Daemon> {
  const configPath = join(dir.path, `config-${port}.yml`);
  const logPath = join(dir.path, `registry-${port}.log`);
  const full = { ...config, http: { addr: `127.0.0.1:${port}`, secret: randomUUID() } };
  await writeFile(configPath, stringify(full));
  const daemon = await startProcess('docker-registry', ['serve', configPath], { logPath, cwd: dir.path });
  try {
    // "listening on" is logged only after a successful bind (registry/registry.go ListenAndServe).
    await waitForLog(daemon, `listening on 127.0.0.1:${port}`, { daemon, timeoutMs: 15_000 });
  } catch (e) {
    await daemon.stop();
    const log = await daemon.readLog().catch(() => '');
    if (log.includes('address already in use')) throw new PortInUseError(port);
    throw e;
  }
  return daemon;
}

/** Starts the CNCF distribution registry (Debian docker-registry 2.8.2) on a free loopback port. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  const auth = opts.auth ?? 'none';
  const dir = await makeTempDir('registry');
  const dataDir = join(dir.path, 'data');
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: dataDir }, delete: { enabled: true } },
  };
  let credentials: Credentials | undefined;
  let tokenServer: TokenServer | undefined;
  let daemon: Daemon | undefined;
  try {
    if (auth === 'basic') {
      credentials = opts.credentials ?? { username: 'tester', password: `pw-${randomUUID()}` };
      const { stdout } = await run('htpasswd', ['-Bbn', credentials.username, credentials.password]);
      const htpasswdPath = join(dir.path, 'htpasswd');
      await writeFile(htpasswdPath, stdout);
      config.auth = { htpasswd: { realm: 'basic-realm', path: htpasswdPath } };
    } else if (auth === 'token') {
      tokenServer = await startTokenServer({ ...opts.token, credentials: opts.credentials });
      credentials = tokenServer.credentials;
      config.auth = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.certPath,
        },
      };
    }
    if (opts.proxyRemoteUrl !== undefined) {
      config.proxy = {
        remoteurl: opts.proxyRemoteUrl,
        ...(opts.proxyCredentials === undefined
          ? {}
          : { username: opts.proxyCredentials.username, password: opts.proxyCredentials.password }),
      };
    }
    const listen = async (port: number) => ({ port, daemon: await launch(dir, config, port) });
    const started = opts.port === undefined ? await withFreePort(listen) : await listen(opts.port);
    daemon = started.daemon;
    const { port } = started;
    const url = `http://127.0.0.1:${port}`;
    await waitForUrl(`${url}/v2/`, { daemon, accept: (s) => s === 200 || s === 401 });
    const running = daemon;
    const logPath = running.logPath;
    const readAccess = async () => parseAccessLog(await running.readLog().catch(() => ''));
    let stopped = false;
    const registry: Registry = {
      url,
      host: `127.0.0.1:${port}`,
      port,
      auth,
      dataDir,
      logPath,
      accessLog: readAccess,
      waitForAccess: async (predicate, timeoutMs = 5_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const entries = await readAccess();
          if (entries.some(predicate)) return entries;
          if (Date.now() >= deadline) throw new Error('timed out waiting for a matching access log entry');
          await new Promise((r) => setTimeout(r, 25));
        }
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await running.stop();
        await tokenServer?.stop();
        await dir.cleanup();
      },
    };
    if (credentials !== undefined) registry.credentials = credentials;
    if (tokenServer !== undefined) registry.tokenServer = tokenServer;
    return registry;
  } catch (e) {
    await daemon?.stop();
    await tokenServer?.stop();
    await dir.cleanup();
    throw e;
  }
}

export interface RegistryFetchOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Send no credentials (anonymous client). */
  anonymous?: boolean;
}

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) {
    const [, k, v] = m;
    if (k !== undefined && v !== undefined) params[k] = v;
  }
  return { scheme, params };
}

function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/**
 * One request to the registry's HTTP API, answering a Basic or Bearer challenge the way a pull
 * client does (distribution docs/spec/auth/token.md). `path` starts with /v2/.
 */
export async function registryFetch(
  registry: RegistryTarget,
  path: string,
  opts: RegistryFetchOptions = {},
): Promise<Response> {
  const url = new URL(path, registry.url).toString();
  const init = (authorization?: string): RequestInit => ({
    method: opts.method ?? 'GET',
    headers: { ...opts.headers, ...(authorization === undefined ? {} : { authorization }) },
    body: opts.body,
    redirect: 'follow',
  });
  const first = await fetch(url, init());
  const challenge = first.headers.get('www-authenticate');
  if (first.status !== 401 || challenge === null) return first;
  await first.arrayBuffer();
  const creds = opts.anonymous === true ? undefined : registry.credentials;
  const { scheme, params } = parseChallenge(challenge);
  if (scheme === 'basic') {
    return creds === undefined ? fetch(url, init()) : fetch(url, init(basicHeader(creds)));
  }
  const realm = params.realm;
  if (scheme !== 'bearer' || realm === undefined) return fetch(url, init());
  const tokenUrl = new URL(realm);
  if (params.service !== undefined) tokenUrl.searchParams.set('service', params.service);
  if (params.scope !== undefined) tokenUrl.searchParams.set('scope', params.scope);
  const tokenRes = await fetch(tokenUrl, {
    headers: creds === undefined ? {} : { authorization: basicHeader(creds) },
  });
  if (!tokenRes.ok) throw new Error(`token request failed with ${tokenRes.status}`);
  const body = (await tokenRes.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (token === undefined) throw new Error('token response without a token');
  return fetch(url, init(`Bearer ${token}`));
}
