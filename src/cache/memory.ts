import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Streaming a blob allocates a buffer per chunk (the socket's reads, the file's reads). They die young, but their
 * memory lives outside the JS heap (malloc'd), and V8 sizes its young-generation collections by the heap, not by
 * that memory: at hundreds of MB/s a process holds 100+ MiB of dead chunks between collections, and the malloc
 * heap keeps the high-water mark. Asking for a young-generation collection after every 4 MiB streamed keeps the
 * process flat (with the young generation capped by `--max-semi-space-size=4`, see package.json "start", a
 * scavenge costs a fraction of a millisecond). Measured here, one cold 512 MiB stream: 16 MiB steps and V8's
 * default young generation peak at 150–200 MiB, 4 MiB steps with the cap at 134–149 MiB, for about a tenth of
 * cold single-stream speed (README, benchmark).
 */
type Gc = (options?: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let collect: Gc | undefined;
try {
  setFlagsFromString('--expose-gc');
  collect = runInNewContext('gc') as Gc;
} catch {
  collect = undefined;
}

const collectEveryBytes = 4 * 1024 * 1024;
let sinceCollection = 0;

/** Counts bytes of short-lived stream buffers; now and then collects the young generation. */
export function noteStreamed(bytes: number): void {
  if (collect === undefined) return;
  sinceCollection += bytes;
  if (sinceCollection < collectEveryBytes) return;
  sinceCollection = 0;
  collect({ type: 'minor' });
}
