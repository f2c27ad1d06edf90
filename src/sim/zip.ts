/**
 * A minimal ZIP writer and reader (PKWARE APPNOTE: local headers, central directory, end record;
 * store or deflate; no ZIP64, no encryption). The simulated relay really unpacks what the
 * simulated dsa_control wrote, so a flipped byte is caught by the entry's CRC-32 exactly as a
 * real unzip would catch it.
 */
import zlib from 'node:zlib';

/** Thrown by readZip when the bytes are not a well-formed zip or an entry fails its CRC-32. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntryInput {
  name: string;
  data: Buffer;
  /** Random payloads do not compress; text does. */
  method?: 'store' | 'deflate';
}

export interface ZipEntry {
  name: string;
  data: Buffer;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const METHOD = { store: 0, deflate: 8 } as const;
const UTF8_FLAG = 0x0800;
const MAX_32 = 0xffffffff;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time, as every zip tool stores them. */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export function buildZip(entries: ZipEntryInput[], modified: Date): Buffer {
  const { time, date } = dosDateTime(modified);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const method = METHOD[entry.method ?? 'store'];
    const body = method === METHOD.deflate ? zlib.deflateRawSync(entry.data) : entry.data;
    const crc = crc32(entry.data);
    if (offset + body.length > MAX_32) throw new ZipFormatError('zip too large for this writer (no ZIP64)');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_SIG, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(UTF8_FLAG, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL_SIG, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_FLAG, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_SIG, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Reads every entry and checks its CRC-32; throws ZipFormatError on the first problem. */
export function readZip(zip: Buffer): ZipEntry[] {
  const endAt = findEndRecord(zip);
  const count = zip.readUInt16LE(endAt + 10);
  const dirSize = zip.readUInt32LE(endAt + 12);
  const dirOffset = zip.readUInt32LE(endAt + 16);
  if (dirOffset + dirSize > endAt) throw new ZipFormatError('central directory runs past the end record');
  const entries: ZipEntry[] = [];
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > endAt || zip.readUInt32LE(at) !== CENTRAL_SIG) throw new ZipFormatError(`bad central header #${i}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLen);
    at += 46 + nameLen + extraLen + commentLen;
    if (localAt + 30 > dirOffset || zip.readUInt32LE(localAt) !== LOCAL_SIG) {
      throw new ZipFormatError(`bad local header for ${name}`);
    }
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    if (dataAt + compressed > dirOffset) throw new ZipFormatError(`${name} runs past its bounds`);
    const body = zip.subarray(dataAt, dataAt + compressed);
    let data: Buffer;
    if (method === METHOD.store) data = Buffer.from(body);
    else if (method === METHOD.deflate) {
      try {
        data = zlib.inflateRawSync(body);
      } catch (err) {
        throw new ZipFormatError(`${name} does not inflate: ${(err as Error).message}`);
      }
    } else throw new ZipFormatError(`${name} uses unsupported method ${method}`);
    if (data.length !== size || crc32(data) !== crc) throw new ZipFormatError(`${name} fails its CRC-32 check`);
    entries.push({ name, data });
  }
  return entries;
}

function findEndRecord(zip: Buffer): number {
  // The end record is the last 22 bytes plus an optional comment of up to 65535 bytes.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === END_SIG) return at;
  }
  throw new ZipFormatError('no end-of-central-directory record (truncated or not a zip)');
}
