import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Streaming a blob allocates a buffer per chunk (the socket's reads, the file's reads). They die young, but their
 * memory lives outside the JS heap, and V8 sizes its young-generation collections by the heap, not by that
 * memory: at hundreds of MB/s a process holds 100+ MiB of dead chunks between collections. Asking for a young-
 * generation collection after every few MiB streamed keeps the process flat (a scavenge costs well under a
 * millisecond here) — the difference between ~280 MiB and the 150 MiB budget for eight 512 MiB pulls.
 */
type Gc = (options?: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let collect: Gc | undefined;
try {
  setFlagsFromString('--expose-gc');
  collect = runInNewContext('gc') as Gc;
} catch {
  collect = undefined;
}

const collectEveryBytes = 16 * 1024 * 1024;
let sinceCollection = 0;

/** Counts bytes of short-lived stream buffers; now and then collects the young generation. */
export function noteStreamed(bytes: number): void {
  if (collect === undefined) return;
  sinceCollection += bytes;
  if (sinceCollection < collectEveryBytes) return;
  sinceCollection = 0;
  collect({ type: 'minor' });
}
