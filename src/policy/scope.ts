import { BlockList, isIPv4, isIPv6 } from 'node:net';
import picomatch from 'picomatch';
import type { Scope } from './schema.js';

/** What a pull looks like to the scopes: everything a policy can select on. */
export interface ScopeInput {
  /** Upstream host as clients name it (`docker.io`, `ghcr.io`). */
  upstream: string;
  /** Repository on the upstream, with Docker Hub's `library/` for official images. */
  repository: string;
  /** The tag asked for (or inherited, for a pull by digest); undefined when none is known. */
  tag?: string | undefined;
  /** The authenticated user; undefined for anonymous. */
  user?: string | undefined;
  /** The client's address (IPv4, IPv6 or IPv4-mapped IPv6). */
  address: string;
}

type Matcher = (value: string) => boolean;

interface CompiledScope {
  upstreams?: Matcher;
  repositories?: Matcher;
  tags?: Matcher;
  users?: Set<string>;
  networks?: BlockList;
}

const compiled = new WeakMap<Scope, CompiledScope>();

function compile(scope: Scope): CompiledScope {
  const hit = compiled.get(scope);
  if (hit !== undefined) return hit;
  // `dot`: repository components may start with a dot-free character only, but tags like `v1.2` and hosts like
  // `ghcr.io` contain dots that must not stop `*`.
  const glob = (list: string[] | undefined): Matcher | undefined =>
    list === undefined ? undefined : picomatch(list, { dot: true });
  const out: CompiledScope = {};
  const upstreams = glob(scope.upstreams);
  if (upstreams) out.upstreams = upstreams;
  const repositories = glob(scope.repositories);
  if (repositories) out.repositories = repositories;
  const tags = glob(scope.tags);
  if (tags) out.tags = tags;
  if (scope.clients?.users) out.users = new Set(scope.clients.users);
  if (scope.clients?.networks) out.networks = blockList(scope.clients.networks);
  compiled.set(scope, out);
  return out;
}

function blockList(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const net of networks) {
    const slash = net.indexOf('/');
    const address = slash < 0 ? net : net.slice(0, slash);
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    const prefix = slash < 0 ? (family === 'ipv4' ? 32 : 128) : Number(net.slice(slash + 1));
    list.addSubnet(address, prefix, family);
  }
  return list;
}

/** True when `address` lies in one of `networks` (CIDR). IPv4-mapped IPv6 addresses count as IPv4. */
export function addressInNetworks(address: string, networks: BlockList): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped?.[1] ?? (isIPv4(address) ? address : undefined);
  if (v4 !== undefined) return networks.check(v4, 'ipv4');
  if (isIPv6(address)) return networks.check(address, 'ipv6');
  return false;
}

/**
 * Every dimension the scope names must match (AND); within one dimension any entry may match (OR). A scope
 * that names tags does not match a pull with no known tag.
 */
export function scopeMatches(scope: Scope, input: ScopeInput): boolean {
  const c = compile(scope);
  if (c.upstreams && !c.upstreams(input.upstream)) return false;
  if (c.repositories && !c.repositories(input.repository)) return false;
  if (c.tags && (input.tag === undefined || !c.tags(input.tag))) return false;
  if (c.users && (input.user === undefined || !c.users.has(input.user))) return false;
  if (c.networks && !addressInNetworks(input.address, c.networks)) return false;
  return true;
}

const loosened = new WeakMap<Scope, { anyTag: Scope; anyTagAndClient: Scope }>();

/**
 * Like scopeMatches, as if the pull's tag matched the scope's tag globs (for a pull whose tag is unknown), and
 * with `anyClient` as if the client matched its users and networks too.
 */
export function scopeMatchesLoosely(scope: Scope, input: ScopeInput, anyClient: boolean): boolean {
  let loose = loosened.get(scope);
  if (loose === undefined) {
    const { tags: _tags, clients: _clients, ...rest } = scope;
    loose = {
      anyTag: scope.clients === undefined ? rest : { ...rest, clients: scope.clients },
      anyTagAndClient: rest,
    };
    loosened.set(scope, loose);
  }
  return scopeMatches(anyClient ? loose.anyTagAndClient : loose.anyTag, input);
}

/** How many dimensions a scope constrains; among equal priorities the more specific policy wins. */
export function scopeSpecificity(scope: Scope): number {
  return (
    Number(scope.upstreams !== undefined) +
    Number(scope.repositories !== undefined) +
    Number(scope.tags !== undefined) +
    Number(scope.clients?.users !== undefined) +
    Number(scope.clients?.networks !== undefined)
  );
}

/** Repository globs (exceptions use the same matching as scopes). */
const globCache = new WeakMap<readonly string[], Matcher>();

export function globMatches(globs: readonly string[], value: string): boolean {
  let matcher = globCache.get(globs);
  if (matcher === undefined) {
    matcher = picomatch([...globs], { dot: true });
    globCache.set(globs, matcher);
  }
  return matcher(value);
}
