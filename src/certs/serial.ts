import { randomBytes } from 'node:crypto';

/** 128 bits, as cert-manager and Kyverno use; CA/Browser Forum rules ask for at least 64 bits of entropy. */
export const SERIAL_BYTES = 16;

/**
 * Turns random bytes into a certificate serial number as forge wants it: the hex of a DER INTEGER's content.
 *
 * RFC 5280 §4.1.2.2 requires a positive serial, and DER requires the minimal encoding, so the top bit is
 * cleared, leading zero bytes are dropped, and a 00 byte is put back only where the next byte has its top bit
 * set (otherwise the INTEGER would read as negative). Returns `undefined` for an all-zero input, since zero is
 * not positive.
 */
export function serialNumberFromBytes(bytes: Uint8Array): string | undefined {
  const cleared = Uint8Array.from(bytes);
  if (cleared.length > 0) cleared[0] = cleared[0]! & 0x7f;
  const start = cleared.findIndex((b) => b !== 0);
  if (start === -1) return undefined;
  const significant = Buffer.from(cleared.subarray(start));
  const hex = significant.toString('hex');
  return significant[0]! >= 0x80 ? `00${hex}` : hex;
}

/**
 * A fresh random positive 128-bit serial number in forge's hex form. Random serials keep two certificates from
 * the same issuer distinct (Pepr gives its CA and leaf the same serial, which strict verifiers reject).
 * `random` is injectable for tests.
 */
export function randomSerialNumber(random: (size: number) => Uint8Array = randomBytes): string {
  for (;;) {
    const serial = serialNumberFromBytes(random(SERIAL_BYTES));
    if (serial !== undefined) return serial;
  }
}
