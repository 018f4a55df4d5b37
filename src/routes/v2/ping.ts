import type { FastifyInstance, FastifyRequest } from 'fastify';
import { header } from '../../oci/headers.js';

/** `/v2/`: the API version check every client starts with; answers who may pull (401 when credentials are due). */
export function pingRoutes(
  app: FastifyInstance,
  authenticate: (request: FastifyRequest) => Promise<unknown>,
): void {
  app.get('/v2/', async (request, reply) => {
    await authenticate(request);
    return reply.type('application/json').send('{}');
  });
  app.head('/v2/', async (request, reply) => {
    await authenticate(request);
    return reply.type('application/json').header(header.contentLength, '2').send();
  });
}
