/**
 * Reading a record set back, as the provider's Read does: a plain query for
 * the name and type to the update server (signed with the key when there is
 * one, recursion desired only if `recursive`). NOERROR with answers: there;
 * NOERROR without, or NXDOMAIN: gone; any other RCODE is an error.
 */
import * as dnsPacket from 'dns-packet';
import { DnsUpdateSettings, exchange } from './client';
import { takeTsig } from './tsig';
import { CLASS, encodeMessage, FLAG, rcodeName, rdata, RecordType, TYPE } from './wire';

export interface LiveRecordSet {
  /** The lowest TTL of the records, as the provider reads it. */
  readonly ttl: number;
  /** Each record's rdata in the canonical form of `canonicalRdata`. */
  readonly records: readonly Buffer[];
}

export function queryMessage(name: string, type: RecordType, recursive: boolean): Buffer {
  return encodeMessage({ flags: recursive ? FLAG.RD : 0, questions: [{ name, type: TYPE[type], klass: CLASS.IN }] });
}

/** The records of `type` at `name` the server answers, or undefined if it has none. */
export async function readRecordSet(settings: DnsUpdateSettings, name: string, type: RecordType): Promise<LiveRecordSet | undefined> {
  const response = await exchange(settings, queryMessage(name, type, settings.recursive));
  const rcode = response.readUInt16BE(2) & 0x0f;
  if (rcode === 3) return undefined;
  if (rcode !== 0) throw new Error(`the server answered the query ${rcodeName(rcode)}`);
  // dns-packet decodes the answers (their names may be compressed); the TSIG record is taken off first.
  const packet = dnsPacket.decode(takeTsig(response).message);
  const owner = name.toLowerCase().replace(/\.$/, '');
  const answers = (packet.answers ?? []).filter((a) => a.type === type && a.name.toLowerCase() === owner);
  if (answers.length === 0) return undefined;
  return {
    ttl: Math.min(...answers.map((a) => (a as { ttl?: number }).ttl ?? 0)),
    records: answers.map((a) => canonicalRdata(type, (a as { data: unknown }).data)),
  };
}

const fq = (name: string) => (name === '.' || name === '' ? '.' : `${name.replace(/\.$/, '')}.`).toLowerCase();

/**
 * Rdata in a form both sides of a comparison can be brought to: names lower
 * case (DNS compares them so) and uncompressed. `data` is what dns-packet
 * decodes; the same shapes are built from a resource's attributes.
 */
export function canonicalRdata(type: RecordType, data: unknown): Buffer {
  switch (type) {
    case 'A':
    case 'AAAA':
      return rdata[type](String(data));
    case 'CNAME':
      return rdata.CNAME(fq(String(data)));
    case 'MX': {
      const mx = data as { preference: number; exchange: string };
      return rdata.MX(mx.preference, fq(mx.exchange));
    }
    case 'SRV': {
      const srv = data as { priority: number; weight: number; port: number; target: string };
      return rdata.SRV(srv.priority, srv.weight, srv.port, fq(srv.target));
    }
    case 'TXT': {
      const strings = (Array.isArray(data) ? data : [data]) as (Buffer | string)[];
      return Buffer.concat(strings.map((s) => Buffer.from(s)).flatMap((s) => [Buffer.from([s.length]), s]));
    }
  }
}
