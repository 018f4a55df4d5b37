// Public key material is meant to be shared: RFC 7468 labels for public keys, certificates, CRLs, requests and
// parameters, OpenSSH public key lines (`ssh-ed25519 AAAA… comment`, RFC 4253 §6.6 / RFC 8709), and the same PEM
// encoded once more in base64 (Kubernetes-style `LS0tLS1CRUdJTi…`). A value holding a private key anywhere is
// judged by private-key.ts first and never reaches this test.

const PUBLIC_PEM =
  /^-----BEGIN (?:(?:RSA |EC |DSA |SSH2 |PGP )?PUBLIC KEY(?: BLOCK)?|(?:TRUSTED |X509 )?CERTIFICATE(?: REQUEST)?|NEW CERTIFICATE REQUEST|X509 CRL|PKCS7|CMS|PGP SIGNATURE|(?:DH|EC|DSA) PARAMETERS)-----/;
const SSH_PUBLIC_KEY =
  /^(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[A-Za-z0-9+/]{8,16384}={0,3}(?:\s|$)/;
/** base64("-----BEGIN "): a PEM block encoded once more. */
export const BASE64_PEM_PREFIX = 'LS0tLS1CRUdJTi';

/** Decodes the start of a base64-encoded PEM block (enough for its header line), or undefined. */
export function decodePemHeader(text: string, at = 0): string | undefined {
  if (!text.startsWith(BASE64_PEM_PREFIX, at)) return undefined;
  const chunk = text.slice(at, at + 96).replace(/[^A-Za-z0-9+/]/g, '');
  return Buffer.from(chunk.slice(0, chunk.length - (chunk.length % 4)), 'base64').toString('latin1');
}

export function isPublicKeyMaterial(value: string): boolean {
  const v = value.trim();
  if (PUBLIC_PEM.test(v) || SSH_PUBLIC_KEY.test(v)) return true;
  const decoded = decodePemHeader(v);
  return decoded !== undefined && PUBLIC_PEM.test(decoded);
}
