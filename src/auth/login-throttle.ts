import NodeCache from 'node-cache';

/**
 * Failed console logins per name in a fixed window: past `max`, the name is refused until its window ends,
 * even with the right password, so guessing one reviewer's password from many addresses is slow too
 * (the per-address limit is @fastify/rate-limit's). Per process: with N replicas a name gets N times `max`.
 */
export class LoginThrottle {
  private readonly failures: NodeCache;

  constructor(
    private readonly max: number,
    windowSeconds: number,
  ) {
    this.failures = new NodeCache({
      stdTTL: windowSeconds,
      checkperiod: Math.max(1, Math.min(windowSeconds, 60)),
      useClones: false,
    });
  }

  private key(name: string): string {
    return name.slice(0, 200).toLowerCase();
  }

  /** Seconds until the name may try again, or 0 when it may try now. */
  blockedFor(name: string, now = Date.now()): number {
    const entry = this.failures.get<number>(this.key(name));
    if (entry === undefined || entry < this.max) return 0;
    const ttl = this.failures.getTtl(this.key(name)) ?? now;
    return Math.max(1, Math.ceil((ttl - now) / 1000));
  }

  recordFailure(name: string): void {
    const key = this.key(name);
    const count = this.failures.get<number>(key);
    // The window starts at the first failure and is not extended by later ones.
    if (count === undefined) this.failures.set(key, 1);
    else
      this.failures.set(
        key,
        count + 1,
        Math.max(1, ((this.failures.getTtl(key) ?? Date.now()) - Date.now()) / 1000),
      );
  }

  close(): void {
    this.failures.close();
  }
}
