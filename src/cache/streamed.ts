/**
 * Bytes of short-lived stream buffers (the upstream socket's chunks, a lagging reader's file reads), counted where
 * the blob fill makes them. The cache only counts; what to do about the garbage is the process's decision, made by
 * its entry (`pullgate serve` asks for young-generation collections, see src/cli/young-gc.ts). An app built
 * in-process (tests) sets no listener.
 */
type StreamedListener = (bytes: number) => void;

let listener: StreamedListener | undefined;

/** Called once by the process entry. */
export function onStreamed(next: StreamedListener): void {
  listener = next;
}

export function noteStreamed(bytes: number): void {
  listener?.(bytes);
}
