import { isPlaceholder } from './placeholders.js';

// RFC 7468 textual encoding labels for private keys ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE
// KEY", OpenSSH's "OPENSSH PRIVATE KEY", PuTTY and PGP's "PGP PRIVATE KEY BLOCK"). Env values often carry
// the newlines escaped as `\n`, so only the header is required.
const PEM_PRIVATE_KEY = /-----BEGIN[ A-Z0-9]{0,40} PRIVATE KEY(?: BLOCK)?-----/;
const PUTTY_PRIVATE_KEY = /PuTTY-User-Key-File-\d: /;

export function findPrivateKey(text: string): { kind: 'private-key'; description: string } | undefined {
  const match = PEM_PRIVATE_KEY.exec(text) ?? PUTTY_PRIVATE_KEY.exec(text);
  if (match === null) return undefined;
  // Documentation keys carry EXAMPLE in the body (AWS and vendor docs); a header followed only by a mask is
  // a placeholder too.
  const body = text.slice(match.index + match[0].length, match.index + match[0].length + 8192);
  if (body.includes('EXAMPLE') || (body.trim() !== '' && isPlaceholder(body.split('-----')[0] ?? ''))) {
    return undefined;
  }
  return { kind: 'private-key', description: 'a private key' };
}
