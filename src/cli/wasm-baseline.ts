import { setFlagsFromString } from 'node:v8';

/**
 * Keeps WebAssembly on V8's baseline compiler (Liftoff): no optimizing (TurboFan) recompilation of hot wasm
 * functions. The only wasm pullgate runs is undici's HTTP parser (llhttp) for upstream responses; the first large
 * upstream body makes its functions hot, and their TurboFan recompilation on a background thread took about 30 MiB
 * of that thread's malloc arena for a moment (seen in /proc/self/smaps: one arena growing 3 → 31 MiB within
 * 100 ms of a fresh process's first cold blob stream, and shrinking back afterwards). That moment was the peak RSS
 * of a cold stream. One cold 1 GiB stream on a fresh process, 2 or 3 rounds each: 146–153 MiB peak before,
 * 110–114 MiB with `--liftoff-only` on the command line, 114–116 MiB with it set here, at the same speed (176–215
 * against 183–211 MB/s; the parser only frames the body, and pullgate's incoming requests are parsed by Node's
 * native llhttp, not this one). The cost: the parser's share of a cold stream's main-thread time went from 2% to 9%
 * (`npm run bench -- --profile blob-cold`). A container memory limit has to cover the peak, not the steady state.
 *
 * Must run before undici's first request compiles the parser; process-wide, so it belongs to the process entry
 * (`pullgate serve`, src/cli.ts), like the GC setting in young-gc.ts.
 */
export function keepWasmBaseline(): void {
  setFlagsFromString('--liftoff-only');
}
