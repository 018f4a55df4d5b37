import { readFile } from 'node:fs/promises';
import { matchesDigest } from '../oci/digest.js';
import { fetchVerified } from '../upstream/fetch-verified.js';
import type { UpstreamRepository } from '../upstream/router.js';
import type { BlobStore } from './blob-store.js';

/**
 * Fetches an image config blob for judging: bounded, verified against its digest, and deliberately kept only in
 * memory. The config of an image that is refused may hold the very secret it was refused for, so it must never
 * land in the blob cache on disk.
 */
export class ConfigFetcher {
  constructor(
    private readonly maxBytes: number,
    /** Configs a client already pulled (so allowed then) are on disk; reading them spares the upstream. */
    private readonly blobs?: Pick<BlobStore, 'lookup' | 'put'>,
  ) {}

  /** Configs fetched but not yet judged, held in memory only until the judgement says whether to keep them. */
  private readonly pending = new Map<string, Buffer>();

  /**
   * Called once an image is allowed: its config may now be kept on disk like any blob a client pulls. A refused
   * image's config is never passed here, so the secret it was refused for never reaches the disk.
   */
  keep(digest: string): void {
    const bytes = this.pending.get(digest);
    this.pending.delete(digest);
    if (bytes === undefined || this.blobs === undefined) return;
    void this.blobs.put(digest, bytes).catch(() => undefined);
  }

  /** Forgets a fetched config without keeping it (its image was refused). */
  forget(digest: string): void {
    this.pending.delete(digest);
  }

  async fetch(route: UpstreamRepository, digest: string, signal: AbortSignal): Promise<Buffer> {
    const cached = await this.fromCache(digest);
    if (cached !== undefined) return cached;
    const { bytes } = await fetchVerified(route, {
      path: `/v2/${route.repository}/blobs/${digest}`,
      subject: 'blob',
      what: 'image config',
      limit: this.maxBytes,
      followRedirects: true,
      signal,
      expected: digest,
    });
    this.remember(digest, bytes);
    return bytes;
  }

  private remember(digest: string, bytes: Buffer): void {
    // Bounded: a judgement normally follows the fetch at once; anything left over is simply not kept.
    if (this.pending.size >= 256) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(digest, bytes);
  }

  private async fromCache(digest: string): Promise<Buffer | undefined> {
    const hit = this.blobs?.lookup(digest);
    if (hit === undefined || hit.size > this.maxBytes) return undefined;
    const bytes = await readFile(hit.path).catch(() => undefined);
    if (bytes === undefined) return undefined;
    // Verified like any other read: a changed byte on disk is a miss, and the upstream is asked instead.
    return matchesDigest(bytes, digest) ? bytes : undefined;
  }
}
