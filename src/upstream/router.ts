import type { UpstreamClient } from './client.js';
import { UpstreamError } from './errors.js';

/** A repository on one upstream: where a client's name routes to (`router.route(name, ns)`). */
export interface UpstreamRepository {
  upstream: UpstreamClient;
  /** The repository name on the upstream (with `library/` added for Docker Hub's one-part names). */
  repository: string;
}

export interface RouterOptions {
  defaultUpstream: UpstreamClient;
  defaultLibraryPrefix: boolean;
  upstreams: UpstreamClient[];
  libraryPrefix: (host: string) => boolean;
}

/**
 * Picks the upstream for a repository a client named. containerd names the registry in `?ns=`; other clients
 * put a configured registry host first in the path (`/v2/ghcr.io/org/app/...`); everything else goes to the
 * default upstream, which answers for docker.io.
 */
export class UpstreamRouter {
  private readonly byHost: Map<string, UpstreamClient>;

  constructor(private readonly options: RouterOptions) {
    this.byHost = new Map(options.upstreams.map((u) => [u.host, u]));
  }

  get all(): UpstreamClient[] {
    return [this.options.defaultUpstream, ...this.byHost.values()];
  }

  route(name: string, ns: string | undefined): UpstreamRepository {
    if (ns !== undefined && ns !== '' && ns !== 'docker.io') {
      const upstream = this.byHost.get(ns);
      if (upstream === undefined) {
        throw new UpstreamError('unknown-registry', `no upstream is configured for registry ${ns}`, {
          detail: { ns },
        });
      }
      return { upstream, repository: this.withLibrary(name, this.options.libraryPrefix(ns)) };
    }
    const slash = name.indexOf('/');
    if (ns === undefined && slash > 0) {
      const first = name.slice(0, slash);
      const upstream = this.byHost.get(first);
      if (upstream !== undefined) {
        return {
          upstream,
          repository: this.withLibrary(name.slice(slash + 1), this.options.libraryPrefix(first)),
        };
      }
      if (first === 'docker.io') {
        return {
          upstream: this.options.defaultUpstream,
          repository: this.withLibrary(name.slice(slash + 1), this.options.defaultLibraryPrefix),
        };
      }
    }
    return {
      upstream: this.options.defaultUpstream,
      repository: this.withLibrary(name, this.options.defaultLibraryPrefix),
    };
  }

  private withLibrary(name: string, prefix: boolean): string {
    return prefix && !name.includes('/') ? `library/${name}` : name;
  }
}
