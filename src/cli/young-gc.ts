import { setFlagsFromString } from 'node:v8';
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
 * raised the peak. What bounds the peak under load is when V8 frees dead buffers' backing stores, not what is live:
 * the heap stays near 30 MB.
 *
 * Process-wide, so it lives with the process entry, which turns it on (`pullgate serve`, src/cli.ts); the cache
 * only reports the bytes it streams (src/cache/streamed.ts), and an app built in-process (tests) streams without
 * it. The figures above are from before issue 16's paced fill; not measured again since.
 */
type Gc = (options?: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

const collectEveryBytes = 4 * 1024 * 1024;

/** Called once by the process entry: from now on, every collectEveryBytes streamed asks for a scavenge. */
export function collectWhileStreaming(): void {
  let collect: Gc;
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Gc;
  } catch {
    return;
  }
  let sinceCollection = 0;
  onStreamed((bytes) => {
    sinceCollection += bytes;
    if (sinceCollection < collectEveryBytes) return;
    sinceCollection = 0;
    collect({ type: 'minor' });
  });
}
