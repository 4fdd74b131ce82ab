/**
 * The DNS wire format the applier's dns_* resources need (RFC 1035, RFC 2136):
 * names, the rdata of the record types the hashicorp/dns provider manages,
 * whole messages, and enough parsing of a response to find its TSIG record.
 * Decoding answers is left to dns-packet; encoding is done here because
 * dns-packet cannot write what dynamic updates are made of (class NONE/ANY
 * records with empty rdata) nor a TSIG record.
 *
 * Names are never compressed in what is written here: it is always allowed,
 * and the TSIG record must not be compressed anyway (RFC 8945 4.2).
 */
import { isIPv4, isIPv6 } from 'node:net';
import * as ipaddr from 'ipaddr.js';

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, SRV: 33, TSIG: 250 } as const;
export type RecordType = 'A' | 'AAAA' | 'CNAME' | 'MX' | 'SRV' | 'TXT';

export const CLASS = { IN: 1, NONE: 254, ANY: 255 } as const;
export const OPCODE_UPDATE = 5;

/** Header flag bits (RFC 1035 4.1.1). */
export const FLAG = { QR: 0x8000, TC: 0x0200, RD: 0x0100 } as const;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
/** The TSIG error field shares the RCODE space from 16 on (RFC 8945 3, RFC 2845). */
const TSIG_ERRORS: Record<number, string> = { 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC' };

export function rcodeName(code: number): string {
  return RCODES[code] ?? TSIG_ERRORS[code] ?? `RCODE${code}`;
}

export class DnsWireError extends Error {}

/**
 * A fully qualified name ("mail.example.test." or "." for the root) in wire
 * form. Escapes (\. \DDD) are refused rather than guessed at: the names a mail
 * stack declares never need them.
 */
export function encodeName(name: string): Buffer {
  if (!name.endsWith('.')) throw new DnsWireError(`"${name}" is not fully qualified (no trailing dot)`);
  if (name.includes('\\')) throw new DnsWireError(`"${name}": escaped names are not supported by the local applier`);
  if (/\s/.test(name)) throw new DnsWireError(`"${name}" must not contain whitespace`);
  const labels = name === '.' ? [] : name.slice(0, -1).split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length === 0) throw new DnsWireError(`"${name}" has an empty label`);
    if (bytes.length > 63) throw new DnsWireError(`"${name}" has a label longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new DnsWireError(`"${name}" is longer than 255 bytes`);
  return wire;
}

/** The canonical form TSIG signs names in (RFC 8945 4.3.3): uncompressed, lower case. */
export const canonicalName = (name: string) => encodeName(name.toLowerCase());

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
/** TSIG's 48-bit "time signed". */
export const u48 = (n: number) => {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
};
export { u16, u32 };

function uint16(value: unknown, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new DnsWireError(`${what} ${String(value)} is not an integer from 0 to 65535`);
  return n;
}

/**
 * As the provider: it feeds each address through stripLeadingZeros before
 * miekg/dns parses it, so "010.0.0.1" is 10.0.0.1 (not octal, not refused).
 */
export function stripLeadingZeros(address: string): string {
  const parts = address.split('.');
  if (!address.includes('.') || parts.length !== 4) return address;
  return parts.map((p) => (p.length <= 1 ? p : p.replace(/^0+/, '') || '0')).join('.');
}

/** The rdata of each record type, from the values the provider's attributes hold. */
export const rdata = {
  A(address: string): Buffer {
    const a = stripLeadingZeros(address);
    if (!isIPv4(a)) throw new DnsWireError(`"${address}" is not an IPv4 address`);
    return Buffer.from(a.split('.').map(Number));
  },
  AAAA(address: string): Buffer {
    if (!isIPv6(address) || address.includes('%')) throw new DnsWireError(`"${address}" is not an IPv6 address`);
    return Buffer.from(ipaddr.IPv6.parse(address).toByteArray());
  },
  MX(preference: unknown, exchange: string): Buffer {
    return Buffer.concat([u16(uint16(preference, 'MX preference')), encodeName(exchange)]);
  },
  SRV(priority: unknown, weight: unknown, port: unknown, target: string): Buffer {
    return Buffer.concat([u16(uint16(priority, 'SRV priority')), u16(uint16(weight, 'SRV weight')), u16(uint16(port, 'SRV port')), encodeName(target)]);
  },
  CNAME(target: string): Buffer {
    return encodeName(target);
  },
  /** One TXT record: its character-strings, each with its length byte. */
  TXT(value: string): Buffer {
    return Buffer.concat(txtStrings(value).flatMap((s) => [Buffer.from([s.length]), s]));
  },
};

/**
 * The character-strings of one TXT record, as the provider makes them: it
 * parses `"<value>"` with miekg/dns, whose lexer keeps escapes as written and
 * cuts a token longer than 255 into 255-byte pieces; each piece is then
 * packed, turning \DDD and \X into the byte they stand for. So the cut is
 * made in the presentation text (bytes of its UTF-8), before unescaping.
 * A bare double quote would end the quoted string (the provider then parses
 * something else or fails): it is refused.
 */
export function txtStrings(value: string): Buffer[] {
  const text = Buffer.from(value, 'utf8');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === 0x5c) i++; // an escape: the next byte is taken as it is
    else if (text[i] === 0x22) throw new DnsWireError(`TXT value ${JSON.stringify(value)} contains a double quote that is not escaped (write \\")`);
    else if (text[i] === 0x0a || text[i] === 0x0d) throw new DnsWireError(`TXT value ${JSON.stringify(value)} contains a line break`);
  }
  if (text.length === 0) return [Buffer.alloc(0)];
  const pieces: Buffer[] = [];
  for (let p = 0; p < text.length; p += 255) pieces.push(unescapeTxt(text.subarray(p, p + 255)));
  return pieces;
}

/** miekg/dns packTxtString: \DDD is a byte in decimal, \X is X; a lone trailing backslash is dropped. */
function unescapeTxt(piece: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < piece.length; i++) {
    if (piece[i] !== 0x5c) {
      out.push(piece[i]);
      continue;
    }
    i++;
    if (i === piece.length) break;
    const ddd = piece.subarray(i, i + 3).toString('latin1');
    if (/^[0-9]{3}$/.test(ddd)) {
      out.push(Number(ddd) & 0xff);
      i += 2;
    } else {
      out.push(piece[i]);
    }
  }
  return Buffer.from(out);
}

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

export function encodeRecord(rr: ResourceRecord): Buffer {
  if (rr.rdata.length > 0xffff) throw new DnsWireError(`a ${rr.type} record of ${rr.name} is longer than 65535 bytes`);
  return Buffer.concat([encodeName(rr.name), u16(rr.type), u16(rr.klass), u32(rr.ttl), u16(rr.rdata.length), rr.rdata]);
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
}

/** A whole message; id 0 until the exchange gives it one. */
export function encodeMessage(m: { flags: number; questions: readonly Question[]; answers?: readonly ResourceRecord[]; authority?: readonly ResourceRecord[]; additional?: readonly ResourceRecord[] }): Buffer {
  const sections = [m.answers ?? [], m.authority ?? [], m.additional ?? []];
  const header = Buffer.concat([u16(0), u16(m.flags), u16(m.questions.length), ...sections.map((s) => u16(s.length))]);
  const questions = m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.klass)]));
  return Buffer.concat([header, ...questions, ...sections.flat().map(encodeRecord)]);
}

/** Reads a possibly compressed name at offset: the name (lower case, trailing dot) and the offset after it. */
export function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let end = -1;
  let at = offset;
  for (let jumps = 0; ; ) {
    if (at >= buf.length) throw new DnsWireError('a name runs past the end of the message');
    const len = buf[at];
    if ((len & 0xc0) === 0xc0) {
      if (++jumps > 64) throw new DnsWireError('a name has a compression loop');
      if (end < 0) end = at + 2;
      at = buf.readUInt16BE(at) & 0x3fff;
      continue;
    }
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if (len > 63) throw new DnsWireError('a name has a bad label length');
    labels.push(buf.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { name: labels.length ? `${labels.join('.').toLowerCase()}.` : '.', end };
}

export interface RecordAt {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly rdataStart: number;
}

/** Where each record of a message starts and ends: what TSIG needs to take its record off. */
export function recordsOf(buf: Buffer): { counts: number[]; records: RecordAt[] } {
  if (buf.length < 12) throw new DnsWireError(`a ${buf.length}-byte message is shorter than a DNS header`);
  const counts = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o));
  let at = 12;
  for (let i = 0; i < counts[0]; i++) at = readName(buf, at).end + 4;
  const records: RecordAt[] = [];
  for (let i = 0; i < counts[1] + counts[2] + counts[3]; i++) {
    const { name, end } = readName(buf, at);
    if (end + 10 > buf.length) throw new DnsWireError('a record runs past the end of the message');
    const rdlength = buf.readUInt16BE(end + 8);
    const record = { start: at, end: end + 10 + rdlength, name, type: buf.readUInt16BE(end), klass: buf.readUInt16BE(end + 2), ttl: buf.readUInt32BE(end + 4), rdataStart: end + 10 };
    if (record.end > buf.length) throw new DnsWireError('a record runs past the end of the message');
    records.push(record);
    at = record.end;
  }
  return { counts, records };
}
