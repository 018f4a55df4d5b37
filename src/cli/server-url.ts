/**
 * Where the reviewers' commands find the running server: `--server`, else PULLGATE_SERVER, else the address the
 * server itself listens on (PULLGATE_LISTEN, so a CLI beside `npm start` with the same environment finds it),
 * else pullgate's default port. A wildcard listen address (0.0.0.0, ::) is reached on loopback.
 */
export function defaultServerUrl(env: NodeJS.ProcessEnv): string {
  const server = env.PULLGATE_SERVER;
  if (server !== undefined && server !== '') return server.replace(/\/+$/, '');
  const listen = env.PULLGATE_LISTEN;
  const match = listen === undefined ? null : /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(listen);
  if (match === null) return 'http://127.0.0.1:5000';
  const [, host = '', port = ''] = match;
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reachable}:${port}`;
}

/** The lines every admin command's help carries about the server and the token. */
export const serverHelp = `  --server URL   the pullgate server (default: $PULLGATE_SERVER, else http://<PULLGATE_LISTEN>
                 with 0.0.0.0 read as 127.0.0.1, else http://127.0.0.1:5000)
  the token is read from PULLGATE_TOKEN (a personal token: pullgate tokens create), else from
  PULLGATE_ADMIN_TOKEN (break-glass); reviews are recorded under the name the token belongs to`;

/** Appended to an UNAUTHORIZED answer when the command had no token to send. */
export function tokenHint(status: number, env: NodeJS.ProcessEnv): string {
  const none = (v: string | undefined) => v === undefined || v === '';
  return status === 401 && none(env.PULLGATE_TOKEN) && none(env.PULLGATE_ADMIN_TOKEN)
    ? ' (neither PULLGATE_TOKEN nor PULLGATE_ADMIN_TOKEN is set: export a personal token or the token the server was started with)'
    : '';
}
