import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';

/**
 * Process entry: load config, build the app, listen, and on SIGTERM/SIGINT stop accepting and let in-flight
 * pulls finish up to the drain deadline before exiting.
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
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal, drainSeconds: resolved.drainSeconds }, 'draining in-flight requests');
    const deadline = setTimeout(() => {
      app.log.warn('drain deadline reached, exiting with requests in flight');
      process.exit(1);
    }, resolved.drainSeconds * 1000);
    deadline.unref();
    // Connections that finish their response after close() began become idle keep-alive connections, which
    // would hold the server open until the deadline; keep closing them as they go idle.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 200);
    sweep.unref();
    app.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        app.log.error({ err }, 'failed to close cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ host: resolved.listen.host, port: resolved.listen.port });
}
