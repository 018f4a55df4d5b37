import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortInUseError, withFreePort } from './ports.js';
import { type Daemon, startProcess, waitUntil } from './proc.js';
import { makeTempDir, type TempDir } from './tmp.js';

export interface Nginx {
  url: string;
  port: number;
  /** nginx's access log lines, `<upstream addr> <status> <uri>` each. */
  accessLog(): Promise<string[]>;
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

/**
 * A real nginx (the Debian package) balancing over `backends` (`127.0.0.1:port` each) on 127.0.0.1 and a free port:
 * its own prefix and config in a temp dir, `daemon off`, round robin, a backend that refuses or fails is skipped
 * (`proxy_next_upstream`), bodies streamed unbuffered as a registry proxy needs.
 */
export async function startNginx(backends: readonly string[]): Promise<Nginx> {
  const tmp: TempDir = await makeTempDir('nginx');
  await mkdir(join(tmp.path, 'logs'));
  const accessPath = join(tmp.path, 'logs', 'access.log');
  let daemon: Daemon | undefined;
  const port = await withFreePort(async (candidate) => {
    const conf = `
daemon off;
master_process on;
worker_processes 1;
pid ${join(tmp.path, 'nginx.pid')};
error_log ${join(tmp.path, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${join(tmp.path, 'body')};
  proxy_temp_path ${join(tmp.path, 'proxy')};
  fastcgi_temp_path ${join(tmp.path, 'fastcgi')};
  uwsgi_temp_path ${join(tmp.path, 'uwsgi')};
  scgi_temp_path ${join(tmp.path, 'scgi')};
  log_format lb '$upstream_addr $status $request_uri';
  access_log ${accessPath} lb;
  upstream pullgate {
${backends.map((b) => `    server ${b} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${candidate};
    client_max_body_size 0;
    location / {
      proxy_pass http://pullgate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
`;
    const confPath = join(tmp.path, `nginx-${candidate}.conf`);
    await writeFile(confPath, conf);
    const started = await startProcess(NGINX, ['-p', tmp.path, '-c', confPath], {
      logPath: join(tmp.path, `nginx-${candidate}.out`),
    });
    try {
      await waitUntil(
        async () => {
          const res = await fetch(`http://127.0.0.1:${candidate}/`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          return true;
        },
        { timeoutMs: 15_000, what: 'nginx to listen', daemon: started },
      );
    } catch (err) {
      await started.stop(2_000);
      if (/Address already in use/.test(await started.readLog().catch(() => ''))) {
        throw new PortInUseError(candidate);
      }
      throw err;
    }
    daemon = started;
    return candidate;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async accessLog() {
      const text = await readFile(accessPath, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '');
    },
    async stop() {
      await daemon?.stop(5_000);
      await tmp.cleanup();
    },
  };
}
