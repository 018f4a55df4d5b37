import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ContainerdEnv, startContainerd, writeHostsToml } from '../../helpers/clients/containerd.js';
import {
  PLANTED_AWS_SECRET,
  PLANTED_NPM_TOKEN,
  type SeededImages,
  seedRegistry,
} from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { failure, REFUSED } from './refused-images.js';

// Issue 3 item 6: "A refused HEAD has no body and containerd then shows only 403: make sure containerd's
// users get the readable message too". ctr resolves a tag with HEAD manifests/<tag>?ns=docker.io and then
// GETs the manifest by digest. By default pullgate answers the refused HEAD with headers (and a Warning) and
// refuses the GET, whose 403 DENIED body ctr prints. With PULLGATE_DENY_ON_HEAD=true the HEAD itself is
// refused, and ctr has nothing to print but the status: the reason the default is what it is.
interface LoggedRequest {
  method: string;
  url: string;
}

describe('ctr (hosts.toml server = pullgate) is refused with a readable reason', () => {
  let registry: Registry;
  let seeded: SeededImages;
  let pullgate: Pullgate;
  let denyOnHead: Pullgate;
  let containerd: ContainerdEnv;
  let denyOnHeadHosts: string;
  const pullgateRequests: { method: string; url: string; status: number }[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    seeded = await seedRegistry(registry);
    // pullgate's own request log, to see which request carried the refusal.
    const pending = new Map<string, LoggedRequest>();
    pullgate = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url },
      logger: {
        level: 'info',
        stream: {
          write: (line: string) => {
            const e = JSON.parse(line) as {
              msg?: string;
              reqId?: string;
              req?: LoggedRequest;
              res?: { statusCode: number };
            };
            if (e.reqId === undefined) return;
            if (e.msg === 'incoming request' && e.req !== undefined) pending.set(e.reqId, e.req);
            const req = pending.get(e.reqId);
            if (e.msg === 'request completed' && e.res !== undefined && req !== undefined) {
              pullgateRequests.push({ method: req.method, url: req.url, status: e.res.statusCode });
              pending.delete(e.reqId);
            }
          },
        },
      },
    });
    denyOnHead = await startPullgate({
      env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_DENY_ON_HEAD: 'true' },
    });
    containerd = await startContainerd();
    await writeHostsToml(containerd.hostsDir, 'docker.io', { url: pullgate.url });
    denyOnHeadHosts = join(containerd.dir, 'certs.d-deny-on-head');
    await mkdir(denyOnHeadHosts);
    await writeHostsToml(denyOnHeadHosts, 'docker.io', { url: denyOnHead.url });
  });

  afterAll(async () => {
    await containerd?.stop();
    await denyOnHead?.stop();
    await pullgate?.stop();
    await registry?.stop();
  });

  it('pulls the non-root image, so a refusal below is the policy and not a broken setup', async () => {
    const pulled = await containerd.pull(`docker.io/${seeded.repo}:nonroot`, {
      hostsDir: containerd.hostsDir,
    });
    expect(pulled.digest).toBe(seeded.digests.nonroot);
  });

  it.each(REFUSED)(
    'ctr pull of $tag is refused on the GET and prints the reason',
    async ({ tag, reason }) => {
      const ref = `docker.io/${seeded.repo}:${tag}`;
      const before = pullgateRequests.length;
      const err = await failure(containerd.pull(ref, { hostsDir: containerd.hostsDir }), 'ctr');
      console.log(`ctr on a refusal of ${tag}: ${err.stderr.trim()}`);
      expect(err.stderr).toContain(reason);
      for (const text of [err.message, err.stderr]) {
        expect(text).not.toContain(PLANTED_AWS_SECRET);
        expect(text).not.toContain(PLANTED_NPM_TOKEN);
      }
      // The HEAD by tag was answered (headers and a Warning), the GET by digest carried the 403.
      const seen = pullgateRequests.slice(before);
      expect(seen).toContainEqual({
        method: 'HEAD',
        url: `/v2/${seeded.repo}/manifests/${tag}?ns=docker.io`,
        status: 200,
      });
      expect(seen).toContainEqual({
        method: 'GET',
        url: `/v2/${seeded.repo}/manifests/${seeded.digests[tag]}?ns=docker.io`,
        status: 403,
      });
      // Nothing of the image reached containerd: no image record, no blob fetched.
      expect(seen.some((r) => r.url.includes('/blobs/'))).toBe(false);
      expect(await containerd.ctr(['images', 'ls', '-q'])).not.toContain(ref);
    },
  );

  it('with PULLGATE_DENY_ON_HEAD=true ctr is refused on the HEAD and shows only the status', async () => {
    const err = await failure(
      containerd.pull(`docker.io/${seeded.repo}:root`, { hostsDir: denyOnHeadHosts }),
      'ctr',
    );
    console.log(`ctr on a refused HEAD: ${err.stderr.trim()}`);
    expect(err.stderr).toContain('403 Forbidden');
    expect(err.stderr).not.toContain('run-as-root');
  });
});
