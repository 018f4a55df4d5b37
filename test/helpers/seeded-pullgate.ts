import { afterAll, beforeAll } from 'vitest';
import { type SeededImages, seedRegistry } from './images.js';
import { type Pullgate, startPullgate } from './pullgate.js';
import { type Registry, startRegistry } from './registry.js';

export interface SeededPullgate {
  upstream: Registry;
  seeded: SeededImages;
  pullgate: Pullgate;
}

/**
 * The setup most pull tests share: the real registry seeded with the test images, and pullgate in front of it
 * (`env` adds PULLGATE_* settings), started before the file's tests and stopped after them. The fields are set
 * in beforeAll: read them inside tests and hooks, not at the top of the file.
 */
export function useSeededPullgate(env: Record<string, string> = {}): SeededPullgate {
  const setup = {} as SeededPullgate;
  beforeAll(async () => {
    setup.upstream = await startRegistry();
    setup.seeded = await seedRegistry(setup.upstream);
    setup.pullgate = await startPullgate({ env: { PULLGATE_UPSTREAM: setup.upstream.url, ...env } });
  });
  afterAll(async () => {
    await setup.pullgate?.stop();
    await setup.upstream?.stop();
  });
  return setup;
}
