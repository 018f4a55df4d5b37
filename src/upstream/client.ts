import type { Readable } from 'node:stream';
import NodeCache from 'node-cache';
import { Agent, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { UpstreamConfig } from '../config/config.js';
import { header } from '../oci/headers.js';
import { userAgent } from '../version.js';
import { type Challenge, parseChallenge, pullScope } from './challenge.js';
import { mapTransportError, mapUpstreamStatus, type Subject, UpstreamError } from './errors.js';

export interface UpstreamRequest {
  method: 'GET' | 'HEAD';
  /** Path and query on the upstream, e.g. `/v2/library/alpine/manifests/3.20`. */
  path: string;
  /** Repository the request is for; it decides the token scope. Absent for `/v2/`. */
  repository?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Follow 3xx (blob downloads redirected to a CDN) server-side, without upstream credentials. */
  followRedirects?: boolean;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Must be consumed or dumped by the caller (undici keeps the connection until it is). */
  body: Readable & { dump(opts?: { limit: number }): Promise<void> };
}

export interface UpstreamObservation {
  /** The upstream's key (`docker.io` for the default upstream). */
  upstream: string;
  /** How people know it: the label metrics carry, so a dashboard never says docker.io for a local registry. */
  registry: string;
  method: string;
  status: number | 'error';
  seconds: number;
}

export interface UpstreamClientOptions {
  timeouts: { connectMs: number; headersMs: number; bodyMs: number };
  /** Injected in tests to reach in-process fault servers; production builds its own Agent. */
  dispatcher?: Dispatcher;
  observe?: (observation: UpstreamObservation) => void;
}

const tokenResponseSchema = z.looseObject({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().positive().optional(),
});

// distribution token spec: a token without expires_in is valid for 60 s.
const defaultTokenSeconds = 60;
const maxRedirects = 5;

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Unless the upstream answered 200: drains the body (so the connection is reused) and throws what that status
 * means for the subject, a 429's Retry-After kept.
 */
export async function requireOk(res: UpstreamResponse, subject: Subject, host: string): Promise<void> {
  if (res.status === 200) return;
  await res.body.dump();
  throw mapUpstreamStatus(res.status, subject, host, firstHeader(res.headers[header.retryAfter]));
}

/** The upstream's Content-Length, when it sent a usable one. */
export function declaredLength(headers: UpstreamResponse['headers']): number | undefined {
  const length = Number(firstHeader(headers[header.contentLength]) ?? Number.NaN);
  return Number.isFinite(length) ? length : undefined;
}

/**
 * One upstream registry: a connection pool, its authentication (anonymous Bearer tokens as Docker Hub hands
 * out, Basic, or tokens obtained with credentials) and its token cache. Answers raw HTTP responses; saying what a
 * status means is the caller's (requireOk), since only it knows whether a 404 meant a manifest or a blob.
 */
export class UpstreamClient {
  /** The key clients, policies and records use (`docker.io` for the default upstream). */
  readonly host: string;
  /** How messages name it: the registry's own host, so a local default upstream is not called docker.io. */
  readonly name: string;
  readonly origin: string;
  readonly basePath: string;
  private readonly config: UpstreamConfig;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly observe: ((o: UpstreamObservation) => void) | undefined;
  private readonly tokens = new NodeCache({ useClones: false, checkperiod: 60 });
  private readonly tokenFetches = new Map<string, Promise<string>>();
  private challenge: Challenge | undefined;

  constructor(config: UpstreamConfig, options: UpstreamClientOptions) {
    this.config = config;
    this.host = config.host;
    this.name = config.name ?? config.host;
    const url = new URL(config.url);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.observe = options.observe;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.timeouts.connectMs },
        headersTimeout: options.timeouts.headersMs,
        // An inactivity timeout between body chunks, not a total: right for multi-GB blobs (undici docs).
        bodyTimeout: options.timeouts.bodyMs,
        keepAliveTimeout: 30_000,
      });
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const scope = req.repository === undefined ? undefined : pullScope(req.repository);
    let authorization = await this.authorizationFor(scope, req.signal);
    let response = await this.send(this.origin, this.basePath + req.path, req, authorization);
    if (response.status === 401) {
      const challenge = parseChallenge(firstHeader(response.headers[header.wwwAuthenticate]));
      const retry = challenge !== undefined && this.canAnswer(challenge) && authorization === undefined;
      const stale = challenge?.scheme === 'bearer' && authorization !== undefined;
      if (retry || stale) {
        await response.body.dump();
        this.challenge = challenge;
        if (stale && scope !== undefined) this.tokens.del(scope);
        authorization = await this.authorizationFor(scope ?? challenge.params.scope, req.signal);
        response = await this.send(this.origin, this.basePath + req.path, req, authorization);
      }
    }
    if (req.followRedirects) response = await this.followRedirects(response, req);
    return response;
  }

  async close(): Promise<void> {
    this.tokens.close();
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private canAnswer(challenge: Challenge): boolean {
    if (challenge.scheme === 'bearer') return typeof challenge.params.realm === 'string';
    if (challenge.scheme === 'basic') return this.config.credentials !== undefined;
    return false;
  }

  private basicHeader(): string | undefined {
    const c = this.config.credentials;
    return c === undefined
      ? undefined
      : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  private async authorizationFor(
    scope: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const challenge = this.challenge;
    if (challenge === undefined) return undefined;
    if (challenge.scheme === 'basic') return this.basicHeader();
    if (challenge.scheme !== 'bearer') return undefined;
    const key = scope ?? '';
    const cached = this.tokens.get<string>(key);
    if (cached !== undefined) return `Bearer ${cached}`;
    // Concurrent requests for one scope share one token request.
    let pending = this.tokenFetches.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(challenge, scope, signal).finally(() => this.tokenFetches.delete(key));
      this.tokenFetches.set(key, pending);
    }
    return `Bearer ${await pending}`;
  }

  private async fetchToken(
    challenge: Challenge,
    scope: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const realm = challenge.params.realm ?? '';
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new UpstreamError('bad-answer', `upstream ${this.name} sent an unusable token realm`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { [header.userAgent]: userAgent };
    const basic = this.basicHeader();
    if (basic !== undefined) headers.authorization = basic;
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers,
        signal,
      });
    } catch (err) {
      this.record('GET', 'error', started);
      throw mapTransportError(err, this.name);
    }
    this.record('GET', res.statusCode, started);
    if (res.statusCode !== 200) {
      await res.body.dump();
      if (res.statusCode === 401 || res.statusCode === 403) {
        throw new UpstreamError(
          'unauthorized',
          `upstream ${this.name} token service refused pullgate's credentials`,
          { detail: { upstream: this.name, status: res.statusCode } },
        );
      }
      throw new UpstreamError('bad-answer', `upstream ${this.name} token service answered ${res.statusCode}`);
    }
    const parsed = tokenResponseSchema.safeParse(await res.body.json().catch(() => undefined));
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!parsed.success || !token) {
      throw new UpstreamError('bad-answer', `upstream ${this.name} token service sent no token`);
    }
    const seconds = parsed.data.expires_in ?? defaultTokenSeconds;
    // Renew a little early so a token never expires between the cache hit and the upstream's check.
    this.tokens.set(scope ?? '', token, Math.max(1, Math.floor(seconds * 0.9) - 5));
    return token;
  }

  private async send(
    origin: string,
    path: string,
    req: UpstreamRequest,
    authorization: string | undefined,
  ): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { [header.userAgent]: userAgent, ...req.headers };
    if (authorization !== undefined) headers.authorization = authorization;
    const started = performance.now();
    try {
      // undici closes the connection after every HEAD unless told not to (undici#258, for servers that send a
      // body with HEAD); registries do not, and a new connection per tag check is a TLS handshake to Docker Hub.
      const res = await this.dispatcher.request({
        origin,
        path,
        method: req.method,
        headers,
        signal: req.signal,
        reset: false,
      });
      this.record(req.method, res.statusCode, started);
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      this.record(req.method, 'error', started);
      if (req.signal?.aborted) throw err;
      throw mapTransportError(err, this.name);
    }
  }

  private async followRedirects(first: UpstreamResponse, req: UpstreamRequest): Promise<UpstreamResponse> {
    let response = first;
    let base = `${this.origin}${this.basePath}${req.path}`;
    for (let hop = 0; hop < maxRedirects; hop++) {
      if (![301, 302, 303, 307, 308].includes(response.status)) return response;
      const location = firstHeader(response.headers[header.location]);
      await response.body.dump();
      if (location === undefined) {
        throw new UpstreamError('bad-answer', `upstream ${this.name} redirected without a location`);
      }
      const target = new URL(location, base);
      base = target.href;
      // Credentials are for the registry only: a CDN (Docker Hub sends blobs from one) gets a signed URL and
      // never the upstream token.
      response = await this.send(target.origin, target.pathname + target.search, req, undefined);
    }
    throw new UpstreamError('bad-answer', `upstream ${this.name} redirected too many times`);
  }

  private record(method: string, status: number | 'error', started: number): void {
    this.observe?.({
      upstream: this.host,
      registry: this.name,
      method,
      status,
      seconds: (performance.now() - started) / 1000,
    });
  }
}
