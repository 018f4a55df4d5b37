import type { FastifyInstance } from 'fastify';

/**
 * Closes `component` when the app closes. A failure is logged and the rest still close (the store after it, the
 * upstream clients last): one component that cannot flush must not leave the others open.
 */
export function closeWithApp(
  app: FastifyInstance,
  component: string,
  close: () => Promise<unknown> | unknown,
): void {
  app.addHook('onClose', async () => {
    try {
      await close();
    } catch (err) {
      app.log.error({ err, component }, 'failed to close a component');
    }
  });
}
