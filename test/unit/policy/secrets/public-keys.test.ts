import { describe, expect, it } from 'vitest';
import { detectSecret } from '../../../../src/policy/secrets/detect.js';
import { fake, randomish } from './fake-credentials.js';

// Public keys and certificates are meant to be shared; a private key next to them is still a secret.
const body = randomish('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 64, 88);
const pem = (label: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;

const publicMaterial: [name: string, value: string][] = [
  ['JWT_PUBLIC_KEY', pem('PUBLIC KEY')],
  ['JWT_PUBLIC_KEY', pem('PUBLIC KEY').replaceAll('\n', '\\n')],
  ['SSH_KEY', pem('RSA PUBLIC KEY')],
  ['TLS_CERT_KEY', pem('CERTIFICATE')],
  ['CA_BUNDLE_TOKEN', `${pem('CERTIFICATE')}\n${pem('CERTIFICATE')}`],
  ['SIGNING_KEY', pem('PGP PUBLIC KEY BLOCK')],
  ['DEPLOY_KEY', `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${body.slice(0, 43)} deploy@ci`],
  ['TLS_CERT_KEY', Buffer.from(pem('CERTIFICATE')).toString('base64')],
];

const privateMaterial: [name: string, value: string][] = [
  ['TLS_BUNDLE', `${pem('CERTIFICATE')}\n${fake.privateKey()}`],
  ['TLS_KEY_B64', Buffer.from(fake.privateKey()).toString('base64')],
  ['SOME_SETTING', Buffer.from(pem('PRIVATE KEY')).toString('base64')],
];

describe('public keys and certificates', () => {
  it.each(publicMaterial)('%s holding public key material is not a secret', (name, value) => {
    expect(detectSecret(name, value)).toBeUndefined();
  });

  it.each(privateMaterial)('%s holding a private key is a secret', (name, value) => {
    expect(detectSecret(name, value)?.kind).toBe('private-key');
  });
});
