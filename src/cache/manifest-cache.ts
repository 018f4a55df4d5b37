import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesDigest } from '../oci/digest.js';
import type { ManifestBytes } from '../oci/manifest.js';
import { parseManifest } from '../oci/manifest.js';

interface Entry {
  manifest: ManifestBytes;
  size: number;
}

/**
 * Manifests by digest: immutable, so kept until evicted. A bounded in-memory LRU in front of files under
 * `<dataDir>/manifests/`, so a pinned or known digest stays servable across restarts and upstream outages.
 * Files are re-verified when read: a changed byte on disk is a miss, never served.
 */
export class ManifestCache {
  private readonly memory = new Map<string, Entry>();
  private memoryBytes = 0;

  constructor(
    private readonly dir: string | undefined,
    private readonly maxMemoryBytes = 64 * 1024 * 1024,
  ) {}

  async get(upstream: string, repository: string, digest: string): Promise<ManifestBytes | undefined> {
    const key = `${upstream}/${repository}@${digest}`;
    const hit = this.memory.get(key);
    if (hit !== undefined) {
      // Map iteration order is insertion order: re-inserting marks the entry most recently used.
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit.manifest;
    }
    if (this.dir === undefined) return undefined;
    const path = this.pathFor(upstream, repository, digest);
    try {
      const bytes = await readFile(path);
      if (!matchesDigest(bytes, digest)) return undefined;
      // The type comes from the bytes, as when they were fetched (a file from an older version may sit beside a
      // `.type` file holding whatever the upstream's Content-Type said).
      const parsed = parseManifest(bytes, undefined);
      if (parsed.kind === 'unknown') return undefined;
      const manifest = { digest, mediaType: parsed.mediaType, bytes };
      this.remember(key, manifest);
      return manifest;
    } catch {
      return undefined;
    }
  }

  async put(upstream: string, repository: string, manifest: ManifestBytes): Promise<void> {
    this.remember(`${upstream}/${repository}@${manifest.digest}`, manifest);
    if (this.dir === undefined) return;
    const path = this.pathFor(upstream, repository, manifest.digest);
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(tmp, manifest.bytes);
      await rename(tmp, path);
    } catch {
      // The disk copy is only a cache (a full disk, a read-only volume): the manifest is served from memory all
      // the same, and no partial file is left for a later read to trip over.
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  private remember(key: string, manifest: ManifestBytes): void {
    const size = manifest.bytes.length;
    if (size > this.maxMemoryBytes) return;
    const old = this.memory.get(key);
    if (old !== undefined) {
      this.memory.delete(key);
      this.memoryBytes -= old.size;
    }
    this.memory.set(key, { manifest, size });
    this.memoryBytes += size;
    for (const [k, v] of this.memory) {
      if (this.memoryBytes <= this.maxMemoryBytes) break;
      this.memory.delete(k);
      this.memoryBytes -= v.size;
    }
  }

  private pathFor(upstream: string, repository: string, digest: string): string {
    const safeUpstream = upstream.replace(/[^a-zA-Z0-9.-]/g, '_');
    return join(this.dir ?? '', safeUpstream, repository, digest.replace(':', '-'));
  }
}
