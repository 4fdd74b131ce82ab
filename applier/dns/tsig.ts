/**
 * TSIG (RFC 8945): a shared-secret HMAC over a DNS message, carried as the
 * last record of the additional section. The hashicorp/dns provider signs
 * every message it sends (updates and the queries its reads make) when a key
 * is configured; so does the applier, and it refuses any response whose
 * signature is missing or does not verify.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalName, CLASS, DnsWireError, encodeRecord, rcodeName, readName, recordsOf, TYPE, u16, u32, u48 } from './wire';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1' | 'hmac-md5';

/** The provider's algorithm names, their names on the wire and node's digests. */
export const TSIG_ALGORITHMS: Readonly<Record<TsigAlgorithm, { readonly wireName: string; readonly digest: string }>> = {
  'hmac-md5': { wireName: 'hmac-md5.sig-alg.reg.int.', digest: 'md5' },
  'hmac-sha1': { wireName: 'hmac-sha1.', digest: 'sha1' },
  'hmac-sha256': { wireName: 'hmac-sha256.', digest: 'sha256' },
  'hmac-sha512': { wireName: 'hmac-sha512.', digest: 'sha512' },
};

export interface TsigKey {
  /** Fully qualified, lower case (the provider lowercases it). */
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Seconds of clock difference allowed either way; the provider's SetTsig(..., 300, now). */
export const FUDGE = 300;

/** The TSIG fields a message is signed with (RFC 8945 4.3.3, "TSIG Variables"). */
function variables(key: TsigKey, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    canonicalName(key.name),
    u16(CLASS.ANY),
    u32(0),
    canonicalName(TSIG_ALGORITHMS[key.algorithm].wireName),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

const hmac = (key: TsigKey, ...parts: Buffer[]) => {
  const h = createHmac(TSIG_ALGORITHMS[key.algorithm].digest, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * Signs a request: the MAC is over the message as it is (its ARCOUNT not yet
 * counting the TSIG record) followed by the TSIG variables; then the record is
 * appended and ARCOUNT incremented. Returns the MAC too: the response's MAC
 * covers it.
 */
export function signRequest(message: Buffer, key: TsigKey, timeSigned: number): { wire: Buffer; mac: Buffer } {
  const empty = Buffer.alloc(0);
  const mac = hmac(key, message, variables(key, timeSigned, FUDGE, 0, empty));
  const id = message.readUInt16BE(0);
  const tsigRdata = Buffer.concat([
    canonicalName(TSIG_ALGORITHMS[key.algorithm].wireName),
    u48(timeSigned),
    u16(FUDGE),
    u16(mac.length),
    mac,
    u16(id), // original ID
    u16(0), // error
    u16(0), // other len
  ]);
  const wire = Buffer.concat([message, encodeRecord({ name: key.name, type: TYPE.TSIG, klass: CLASS.ANY, ttl: 0, rdata: tsigRdata })]);
  wire.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { wire, mac };
}

export interface TsigRecord {
  readonly keyName: string;
  readonly algorithm: string;
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

/** The response without its TSIG record (ARCOUNT decremented), and that record; no record: undefined. */
export function takeTsig(response: Buffer): { message: Buffer; tsig?: TsigRecord } {
  const { counts, records } = recordsOf(response);
  const last = records[records.length - 1];
  if (counts[3] === 0 || !last || last.type !== TYPE.TSIG) return { message: response };
  const at = readName(response, last.rdataStart);
  let p = at.end;
  const timeSigned = response.readUIntBE(p, 6);
  const fudge = response.readUInt16BE(p + 6);
  const macSize = response.readUInt16BE(p + 8);
  p += 10;
  const mac = response.subarray(p, p + macSize);
  p += macSize;
  const originalId = response.readUInt16BE(p);
  const error = response.readUInt16BE(p + 2);
  const otherLen = response.readUInt16BE(p + 4);
  const other = response.subarray(p + 6, p + 6 + otherLen);
  if (p + 6 + otherLen !== last.end) throw new DnsWireError('the TSIG record of the response is malformed');
  const message = Buffer.from(response.subarray(0, last.start));
  message.writeUInt16BE(counts[3] - 1, 10);
  return { message, tsig: { keyName: last.name, algorithm: at.name, timeSigned, fudge, mac, originalId, error, other } };
}

const EXPLAIN: Record<string, string> = {
  BADSIG: 'the server could not verify the signature: the key secret is not the one it has for',
  BADKEY: 'the server does not know the key (or not with that algorithm):',
  BADTIME: 'the clocks of this machine and of the server differ by more than the fudge: key',
};

/**
 * Checks a response to a request signed with `requestMac` (RFC 8945 5.3):
 * present, by the same key, within the fudge, with a MAC over the request MAC,
 * the response without its TSIG (original ID restored) and its TSIG variables.
 * Throws a message naming the response's RCODE and the TSIG error.
 */
export function verifyResponse(response: Buffer, requestMac: Buffer, key: TsigKey, now: number): void {
  const rcode = rcodeName(response.readUInt16BE(2) & 0x0f);
  const { message, tsig } = takeTsig(response);
  if (!tsig) throw new Error(`the server answered ${rcode} without a TSIG signature, to a request signed with ${key.name}`);
  if (tsig.error !== 0) {
    const error = rcodeName(tsig.error);
    throw new Error(`the server answered ${rcode} (TSIG error ${error}): ${EXPLAIN[error] ?? 'the request was refused for key'} ${key.name} (${key.algorithm})`);
  }
  if (tsig.keyName !== key.name.toLowerCase() || tsig.algorithm !== TSIG_ALGORITHMS[key.algorithm].wireName) {
    throw new Error(`the server answered ${rcode} signed with another key (${tsig.keyName} ${tsig.algorithm}) than ${key.name}`);
  }
  message.writeUInt16BE(tsig.originalId, 0);
  const expected = hmac(key, u16(requestMac.length), requestMac, message, variables(key, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other));
  // BIND sends the whole MAC; a truncated one (RFC 8945 5.2.2.1) is not accepted here.
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    throw new Error(`the server answered ${rcode} with a TSIG MAC that does not verify (BADSIG) for key ${key.name}: the response is not from a holder of the key`);
  }
  if (Math.abs(now - tsig.timeSigned) > tsig.fudge) {
    throw new Error(`the server answered ${rcode} signed at ${tsig.timeSigned}, more than ${tsig.fudge} s from this machine's ${now} (BADTIME)`);
  }
}
