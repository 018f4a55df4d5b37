/**
 * Concurrent requests for the same thing share one upstream fetch. Each caller brings its own AbortSignal;
 * the shared fetch is aborted only when every caller waiting on it has gone, so one impatient client never
 * fails the others, and the last one leaving cancels the upstream work.
 */
export class Coalescer<T> {
  private readonly inFlight = new Map<
    string,
    { promise: Promise<T>; waiters: number; controller: AbortController }
  >();

  get size(): number {
    return this.inFlight.size;
  }

  run(key: string, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let entry = this.inFlight.get(key);
    if (entry === undefined) {
      const controller = new AbortController();
      const created = {
        controller,
        waiters: 0,
        promise: Promise.resolve()
          .then(() => work(controller.signal))
          .finally(() => {
            if (this.inFlight.get(key) === created) this.inFlight.delete(key);
          }),
      };
      // The shared promise may reject after every waiter has left; that must not become an unhandled rejection.
      created.promise.catch(() => {});
      entry = created;
      this.inFlight.set(key, entry);
    }
    const shared = entry;
    shared.waiters++;
    if (signal === undefined) return shared.promise;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const leave = () => {
        if (settled) return;
        settled = true;
        shared.waiters--;
        if (shared.waiters === 0) shared.controller.abort(signal.reason);
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      };
      if (signal.aborted) {
        leave();
        return;
      }
      signal.addEventListener('abort', leave, { once: true });
      shared.promise.then(
        (value) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', leave);
          reject(err);
        },
      );
    });
  }
}
