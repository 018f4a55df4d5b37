import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

// package.json overrides light-my-request's cookie (^2, Node >= 22) with cookie 1.1.1 (Node >= 18), so `npm ci` on
// Node 20 prints no EBADENGINE warning. light-my-request calls cookie's stringifySetCookie({name, value}) for
// `inject({ cookies })`; 1.1.1 has the same function, which this checks end to end.
describe('app.inject with cookies under the cookie override', () => {
  it('sends the cookies whose path matches, encoded', async () => {
    const app = Fastify({ logger: false });
    app.get('/a/b', async (request) => ({ cookie: request.headers.cookie }));
    const res = await app.inject({
      url: '/a/b',
      cookies: { sid: 'x y', scoped: { value: 'v', path: '/a' }, elsewhere: { value: 'n', path: '/c' } },
    });
    expect(res.json()).toEqual({ cookie: 'sid=x%20y; scoped=v' });
    await app.close();
  });
});
