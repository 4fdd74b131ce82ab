/**
 * RFC 2136 dynamic updates, as the hashicorp/dns provider sends them for its
 * record sets: one UPDATE message for the zone, signed with the provider's
 * TSIG key, answered NOERROR or the change did not happen.
 */
import { DnsUpdateSettings, exchange } from './client';
import { CLASS, encodeMessage, OPCODE_UPDATE, rcodeName, RecordType, ResourceRecord, TYPE } from './wire';

export interface RecordSetChange {
  /** The zone the update is for (fully qualified). */
  readonly zone: string;
  /** The owner name (fully qualified). */
  readonly name: string;
  readonly type: RecordType;
}

/**
 * The update message: the zone section names the zone (class IN, type SOA);
 * the update section first deletes the whole RRset (class ANY, TTL 0, no
 * rdata: RFC 2136 2.5.2), then adds each record (class IN). A server applies
 * the section in order and all or nothing (RFC 2136 3.4.2), so the RRset is
 * never seen half-made and ends up exactly the records given.
 */
export function updateMessage(change: RecordSetChange, ttl: number, records: readonly Buffer[]): Buffer {
  const type = TYPE[change.type];
  const updates: ResourceRecord[] = [
    { name: change.name, type, klass: CLASS.ANY, ttl: 0, rdata: Buffer.alloc(0) },
    ...records.map((rdata) => ({ name: change.name, type, klass: CLASS.IN, ttl, rdata })),
  ];
  // RFC 2136 2.2: the counts are ZOCOUNT, PRCOUNT, UPCOUNT, ADCOUNT in the places of QD, AN, NS, AR.
  return encodeMessage({ flags: OPCODE_UPDATE << 11, questions: [{ name: change.zone, type: TYPE.SOA, klass: CLASS.IN }], answers: [], authority: updates });
}

/** Sends an update; anything but NOERROR is an error naming the RCODE (NOTAUTH, REFUSED, NOTZONE, ...). */
async function send(settings: DnsUpdateSettings, message: Buffer): Promise<void> {
  const response = await exchange(settings, message);
  const rcode = response.readUInt16BE(2) & 0x0f;
  if (rcode !== 0) throw new Error(`the server answered ${rcodeName(rcode)}`);
}

/** Makes the RRset exactly `records` (each one rdata), all with `ttl`. */
export async function replaceRecordSet(settings: DnsUpdateSettings, change: RecordSetChange, ttl: number, records: readonly Buffer[]): Promise<void> {
  await send(settings, updateMessage(change, ttl, records));
}

/** Deletes the whole RRset, as the provider's Delete (RemoveRRset); absent already is fine (RFC 2136 3.4.2.3). */
export async function deleteRecordSet(settings: DnsUpdateSettings, change: RecordSetChange): Promise<void> {
  await send(settings, updateMessage(change, 0, []));
}
