import { writeFile } from 'node:fs/promises';

export interface Credentials {
  user: string;
  password: string;
}

/**
 * Writes a containers-auth.json(5) / docker config.json style file for one registry host, mode 0600.
 * Credentials go through a file rather than argv (`--creds user:pass`) so they never show in `ps`.
 */
export async function writeAuthFile(path: string, host: string, creds: Credentials): Promise<void> {
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64');
  await writeFile(path, JSON.stringify({ auths: { [host]: { auth } } }), { mode: 0o600 });
}
