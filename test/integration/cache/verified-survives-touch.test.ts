import { createHash, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../../src/cache/blob-store.js';
import { waitUntil } from '../../helpers/proc.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// A cache hit marks the file used on disk (its atime, for LRU order across restarts) and must leave it counted as
// verified: the mtime that says "unchanged since hashed" survives the touch. It did not when compared to the
// nanosecond: the touch can only write whole milliseconds back, so every warm hit after the first hashed the whole
// blob again. Real files on a real filesystem; the store is driven directly so the flag itself is observed.
let dir: TempDir;
beforeEach(async () => {
  dir = await makeTempDir('touch');
});
afterEach(async () => {
  await dir.cleanup();
});

describe('a verified cached blob', () => {
  it('stays verified across repeated cache hits, each of which touches the file', async () => {
    const store = new BlobStore(dir.path, 1 << 30);
    await store.init();
    const bytes = randomBytes(64 * 1024);
    const hex = createHash('sha256').update(bytes).digest('hex');
    const digest = `sha256:${hex}`;
    await store.put(digest, bytes);
    const path = join(dir.path, 'blobs', 'sha256', hex);

    for (let hit = 0; hit < 20; hit++) {
      await sleep(2); // a new millisecond, so this hit's touch is seen landing
      const before = Date.now();
      const found = await store.lookupVerified(digest);
      expect(found?.verified, `hit ${hit}`).toBe(true);
      // The touch writes `now` to the microsecond below, so its atime may read a hair under `before`.
      await waitUntil(async () => (await stat(path)).atimeMs > before - 1, { what: `hit ${hit}'s touch` });
    }
  });
});
