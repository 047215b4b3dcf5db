/** Builds tar archives in memory for tests (ustar headers with valid checksums). */
import { gzipSync } from 'node:zlib';

/** One archive member: header plus data padded to 512 bytes; `linkName` is a link's target. */
export function tarEntry(
  name: string,
  data: string | Buffer = '',
  type = '0',
  mode = type === '5' ? 0o755 : 0o644,
  linkName = '',
): Buffer {
  const body = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 100), 0, 'utf8');
  header.write(`${mode.toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  header.write(linkName.slice(0, 100), 157, 'utf8');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([header, padded]);
}

/** Members followed by the two zero blocks that end an archive. */
export function tarArchive(entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

/** A gzipped npm-style tarball of the given files (under package/). */
export function npmTarball(files: Record<string, string>): Buffer {
  return gzipSync(
    tarArchive(Object.entries(files).map(([name, content]) => tarEntry(`package/${name}`, content))),
  );
}
