import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Found by the HTTP-surface fuzz: a HEAD on tags/list is passed through, distribution answers it 405, and pullgate
// called that an upstream failure (502). The request is what the registry does not support: 405, not a 5xx.
const setup = useSeededPullgate();

describe('a HEAD on tags/list', () => {
  it('is answered 405 UNSUPPORTED, as the registry does, not 502', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/library/app/tags/list`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    // The GET the spec defines still works.
    const list = await fetch(`${setup.pullgate.url}/v2/library/app/tags/list`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { tags: string[] }).tags).toContain('nonroot');
  });
});
