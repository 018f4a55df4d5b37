import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { onStreamed } from '../cache/streamed.js';

/**
 * Streaming a blob allocates a buffer per chunk (the upstream socket's reads, a lagging reader's file reads). They
 * die young, but their memory lives outside the JS heap (malloc'd), and V8 sizes its young-generation collections by
 * the heap, not by that memory: at hundreds of MB/s a process holds 100+ MiB of dead chunks between collections, and
 * the malloc heap keeps the high-water mark. So the blob fill counts the bytes it streams, and after every 4 MiB a
 * young-generation collection is asked for (with the young generation capped by `--max-semi-space-size=4`, see
 * package.json "start", a scavenge costs a fraction of a millisecond).
 *
 * Measured here, one cold 512 MiB stream: 16 MiB steps and V8's default young generation peak at 150–200 MiB, 4 MiB
 * steps with the cap at 134–149 MiB, for about a tenth of cold single-stream speed. Again for issue 16 (2 shared
 * cores, one cold 256 MiB stream through a running pullgate, 4 interleaved rounds, with the memory-window fill that
 * was tried and reverted): with these collections 145 MB/s and 3.9 CPU-s per GiB, without them 103 MB/s and 5.8 CPU-s
 * per GiB (V8's own collections, driven by external memory, are then full mark-compacts); every 2 MiB instead of 4
 * raised the peak. Measured again with the paced fill and the full collections below (8 cold 512 MiB streams, fresh
 * processes, 4 interleaved rounds each): every 16 MiB doubled the CPU per GiB (33–38 against 13–21 CPU-s: more
 * chunks live through two scavenges and are promoted), every 2 MiB gained nothing.
 *
 * Chunks that outlive two scavenges are promoted, and once dead only a full collection frees their memory: with
 * 8 concurrent streams of one cold blob (chunks shared through the fill's window, lagging readers on the file) dead
 * promoted buffers grew by 50 MiB before V8's own trigger (64 MiB of external growth) collected them, and the peak was
 * 173–179 MiB. So a full collection is also asked for when external memory has grown by fullCollectionGrowthBytes
 * since the last one (see FullCollectionRule): 122–126 MiB, one collection of 22–35 ms per 512 MiB blob, no loss of
 * speed seen (fresh process, 3 rounds each). The growth is measured from the level the last full collection left,
 * not from zero: an absolute limit of 16 MiB collected again and again while that much was live (48 collections in
 * 3 rounds, one round at 197 MB/s against 500).
 *
 * Process-wide, so it lives with the process entry, which turns it on (`pullgate serve`, src/cli.ts); the cache
 * only reports the bytes it streams (src/cache/streamed.ts), and an app built in-process (tests) streams without
 * it.
 */
type Gc = (options?: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

const collectEveryBytes = 4 * 1024 * 1024;
const fullCollectionGrowthBytes = 16 * 1024 * 1024;

/**
 * When external memory (ArrayBuffer backing stores) has grown by more than `growthBytes` above the lowest level seen
 * since the last full collection, one is due. The floor follows the level down, so memory that is live does not
 * count as growth, and a collection that frees little does not trigger the next one at once.
 */
export class FullCollectionRule {
  private floor: number;

  constructor(
    private readonly growthBytes: number,
    externalBytes: number,
  ) {
    this.floor = externalBytes;
  }

  /** Whether a full collection is due at this level of external memory. */
  due(externalBytes: number): boolean {
    if (externalBytes < this.floor) this.floor = externalBytes;
    return externalBytes - this.floor > this.growthBytes;
  }

  /** A full collection ran and left this much. */
  collected(externalBytes: number): void {
    this.floor = externalBytes;
  }
}

/** Called once by the process entry: from now on, every collectEveryBytes streamed asks for a scavenge. */
export function collectWhileStreaming(): void {
  let collect: Gc;
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Gc;
  } catch {
    return;
  }
  const rule = new FullCollectionRule(fullCollectionGrowthBytes, getHeapStatistics().external_memory);
  let sinceCollection = 0;
  onStreamed((bytes) => {
    sinceCollection += bytes;
    if (sinceCollection < collectEveryBytes) return;
    sinceCollection = 0;
    collect({ type: 'minor' });
    if (rule.due(getHeapStatistics().external_memory)) {
      // gc() with no options: `{ type: 'major' }` runs a full collection that leaves dead ArrayBuffers' memory
      // allocated (tried in Node 20: 25 MiB of dead promoted buffers stayed counted after it, and went after this).
      collect();
      rule.collected(getHeapStatistics().external_memory);
    }
  });
}
