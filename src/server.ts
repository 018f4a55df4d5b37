import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';

/**
 * Process entry: load config, build the app, listen. On SIGTERM/SIGINT (or a crash: an uncaught exception closes
 * cleanly too, then exits 1) pullgate stops accepting and lets in-flight pulls finish up to the drain deadline
 * before exiting (close-with-grace, the fastify/demo way).
 */
export async function serve(config?: Config): Promise<void> {
  let resolved: Config;
  try {
    resolved = config ?? loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pullgate: invalid configuration\n${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await buildApp(resolved);
  const grace = closeWithGrace(
    {
      delay: resolved.drainSeconds * 1000,
      logger: false,
      onTimeout: () => app.log.warn('drain deadline reached, exiting with requests in flight'),
    },
    async ({ signal, err }) => {
      if (err !== undefined) app.log.error({ err }, 'crashed; closing');
      else app.log.info({ signal, drainSeconds: resolved.drainSeconds }, 'draining in-flight requests');
      // Connections that finish their response after close() began become idle keep-alive connections, which
      // would hold the server open until the deadline; keep closing them as they go idle.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 200);
      sweep.unref();
      try {
        await app.close();
      } catch (closeErr) {
        app.log.error({ err: closeErr }, 'failed to close cleanly');
        throw closeErr;
      }
      app.log.info('stopped');
    },
  );
  const { host, port } = resolved.listen;
  try {
    await app.listen({ host, port });
  } catch (err) {
    // A start-up failure, not a shutdown: left to close-with-grace, the process logged a clean drain and exited 0,
    // so a supervisor saw a clean stop and a readiness loop waited on (or passed against) whatever holds the port.
    grace.uninstall();
    process.stderr.write(
      `pullgate: cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    await app.close().catch(() => undefined);
    process.exit(1);
  }
}
