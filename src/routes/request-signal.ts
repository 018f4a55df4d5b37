import type { FastifyReply, FastifyRequest } from 'fastify';

/** An AbortSignal that fires when the client goes away before its response was completely sent. */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new DOMException('client disconnected', 'AbortError'));
  };
  reply.raw.once('close', onClose);
  request.raw.once('aborted', onClose);
  return controller.signal;
}
