import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** RSA 2048: accepted by every Kubernetes API server and TLS client, and quick to generate natively. */
export const RSA_MODULUS_BITS = 2048;

/** A fresh key pair: forge objects to build and sign certificates with, and the private key as PEM to store. */
export interface RsaKeyPair {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  /** PKCS#8 (`BEGIN PRIVATE KEY`), as Go's `tls.LoadX509KeyPair` and Node's `tls` both read. */
  keyPem: string;
}

/**
 * Generates an RSA key pair with Node's native (OpenSSL) generator, in a few hundred milliseconds.
 *
 * forge's `rsa.generateKeyPair` only takes the native path when its global `usePureJavaScript` option is off
 * and no PRNG is passed; otherwise it falls back to pure JavaScript, which takes seconds per key. Calling
 * node:crypto directly makes the fast path unconditional; forge then only parses the result.
 */
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(keyPem);
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  return { privateKey, publicKey, keyPem };
}
