import { describe, expect, it } from '@jest/globals';

import { randomSerialNumber, SERIAL_BYTES, serialNumberFromBytes } from './serial.js';

/** A DER INTEGER's content is positive and minimal when its first bit is clear and a leading 00 is needed. */
function isPositiveMinimalInteger(hex: string): boolean {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length === 0 || hex.length !== bytes.length * 2) return false;
  if (bytes[0]! >= 0x80) return false;
  return !(bytes[0] === 0 && (bytes.length === 1 || bytes[1]! < 0x80));
}

describe('serialNumberFromBytes', () => {
  it.each([
    { name: 'clears the top bit so the serial is positive', bytes: [0xff, 0x01], hex: '7f01' },
    { name: 'keeps bytes whose top bit is already clear', bytes: [0x12, 0x34], hex: '1234' },
    {
      name: 'drops leading zero bytes (DER wants the minimal encoding)',
      bytes: [0x00, 0x00, 0x12],
      hex: '12',
    },
    { name: 'keeps one 00 before a byte with the top bit set', bytes: [0x00, 0x90, 0x01], hex: '009001' },
    { name: 'keeps a 00 after clearing the top bit of 0x80', bytes: [0x80, 0xab], hex: '00ab' },
  ])('$name', ({ bytes, hex }) => {
    const serial = serialNumberFromBytes(Uint8Array.from(bytes));
    expect(serial).toBe(hex);
    expect(isPositiveMinimalInteger(serial!)).toBe(true);
  });

  it.each([{ bytes: [] }, { bytes: [0x00, 0x00] }, { bytes: [0x80, 0x00] }])(
    'returns undefined for $bytes, which is zero and so not a valid serial',
    ({ bytes }) => {
      expect(serialNumberFromBytes(Uint8Array.from(bytes))).toBeUndefined();
    },
  );

  it('does not modify the bytes it is given', () => {
    const bytes = Uint8Array.from([0xff, 0x01]);
    serialNumberFromBytes(bytes);
    expect([...bytes]).toEqual([0xff, 0x01]);
  });
});

describe('randomSerialNumber', () => {
  it('draws again when the random bytes encode zero', () => {
    const draws = [new Uint8Array(SERIAL_BYTES), Uint8Array.from({ length: SERIAL_BYTES }, () => 0x42)];
    const sizes: number[] = [];
    const serial = randomSerialNumber((size) => {
      sizes.push(size);
      return draws.shift()!;
    });
    expect(serial).toBe('42'.repeat(SERIAL_BYTES));
    expect(sizes).toEqual([SERIAL_BYTES, SERIAL_BYTES]);
  });

  it('gives distinct, positive, minimally encoded serials of at most 128 bits over many draws', () => {
    const serials = Array.from({ length: 10_000 }, () => randomSerialNumber());
    expect(new Set(serials).size).toBe(serials.length);
    expect(serials.filter((serial) => !isPositiveMinimalInteger(serial))).toEqual([]);
    expect(serials.filter((serial) => BigInt(`0x${serial}`) >= 2n ** 127n)).toEqual([]);
  });
});
