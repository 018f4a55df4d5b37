import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../../src/cache/coalesce.js';

describe('Coalescer', () => {
  it('runs the work once for concurrent callers and forgets it afterwards', async () => {
    const c = new Coalescer<number>();
    let calls = 0;
    const work = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return 42;
    };
    const results = await Promise.all([
      c.run('k', undefined, work),
      c.run('k', undefined, work),
      c.run('k', undefined, work),
    ]);
    expect(results).toEqual([42, 42, 42]);
    expect(calls).toBe(1);
    expect(c.size).toBe(0);
    await c.run('k', undefined, work);
    expect(calls).toBe(2);
  });

  it('aborts the shared work only when every caller has gone', async () => {
    const c = new Coalescer<string>();
    let sharedSignal: AbortSignal | undefined;
    const work = (signal: AbortSignal) => {
      sharedSignal = signal;
      return new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => resolve('done'), 200);
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      });
    };
    const a = new AbortController();
    const b = new AbortController();
    const first = c.run('k', a.signal, work);
    const second = c.run('k', b.signal, work);
    a.abort();
    await expect(first).rejects.toBeDefined();
    await new Promise((r) => setTimeout(r, 0));
    expect(sharedSignal?.aborted).toBe(false);
    b.abort();
    await expect(second).rejects.toBeDefined();
    expect(sharedSignal?.aborted).toBe(true);
  });
});
