/**
 * The hashicorp/dns provider's record sets: dns_a_record_set,
 * dns_aaaa_record_set, dns_mx_record_set, dns_txt_record_set,
 * dns_srv_record_set and dns_cname_record, applied as RFC 2136 dynamic updates
 * (TSIG-signed) to the provider's update server.
 *
 * The record set at `name`.`zone` (the zone apex without a name) is exactly
 * what is declared: create replaces the whole RRset in one update, destroy
 * deletes it. Like the provider, which reads each record set back after
 * creating it and on every refresh, the applier queries the server: a set
 * that is gone, or no longer what was declared, counts as not there, and the
 * next apply makes it again.
 */
import { AttributeSpec } from '../attributes';
import { dnsUpdateSettings, DnsUpdateSettings, serverName } from '../dns/client';
import { canonicalRdata, readRecordSet } from '../dns/query';
import { deleteRecordSet, replaceRecordSet } from '../dns/update';
import { encodeName, rdata, RecordType, txtStrings } from '../dns/wire';
import { ApplyContext, ResourceHandler } from './handler';

interface RecordSetKind {
  readonly type: RecordType;
  /** The attribute holding the records. */
  readonly attribute: string;
  readonly nameRequired: boolean;
  /** The attribute's spec (a list of strings, a block, or one string). */
  readonly spec: true | AttributeSpec;
  /** The declared records, each in the shape dns-packet decodes that type's data to. */
  values(attribute: unknown): unknown[];
  /** One record's rdata as sent (names as written). */
  wire(value: unknown): Buffer;
}

/** A record set resolved from a resource's attributes. */
interface DeclaredSet {
  readonly zone: string;
  readonly name?: string;
  readonly fqdn: string;
  readonly ttl: number;
  /** Deduplicated, as the provider's attribute is a set. */
  readonly values: readonly unknown[];
  readonly wire: readonly Buffer[];
  readonly canonical: readonly Buffer[];
}

const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function declared(kind: RecordSetKind, what: string, c: Record<string, unknown>): DeclaredSet {
  const zone = String(c.zone ?? '');
  const name = c.name === undefined || c.name === null ? undefined : String(c.name);
  // The provider's validators: the zone fully qualified, the name relative, neither with whitespace.
  if (!zone.endsWith('.') || /\s/.test(zone)) throw new Error(`${what}: zone "${zone}" must be fully qualified (end with a dot) and contain no whitespace`);
  if (name === undefined && kind.nameRequired) throw new Error(`${what}: name is required for ${kind.type} records`);
  if (name !== undefined && (name === '' || /\s/.test(name) || name.endsWith('.'))) {
    throw new Error(`${what}: name "${name}" must be relative to the zone (no trailing dot), not empty, without whitespace`);
  }
  const ttl = Number(c.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 0x7fffffff) throw new Error(`${what}: ttl ${String(c.ttl)} is not a TTL`);
  const fqdn = name === undefined ? zone : `${name}.${zone}`;
  const seen = new Set<string>();
  const values: unknown[] = [];
  const wire: Buffer[] = [];
  const canonical: Buffer[] = [];
  try {
    encodeName(fqdn);
    for (const value of kind.values(c[kind.attribute])) {
      const canon = canonicalRdata(kind.type, kind.type === 'TXT' ? txtStrings(String(value)) : value);
      if (seen.has(canon.toString('hex'))) continue;
      seen.add(canon.toString('hex'));
      values.push(value);
      wire.push(kind.wire(value));
      canonical.push(canon);
    }
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  // The provider would send an update adding nothing, then find nothing to keep in its state.
  if (values.length === 0) throw new Error(`${what}: ${kind.attribute} declares no records`);
  return { zone, name, fqdn, ttl, values, wire, canonical };
}

const sameRecords = (a: readonly Buffer[], b: readonly Buffer[]) => {
  const hex = (x: readonly Buffer[]) => x.map((r) => r.toString('hex')).sort().join(',');
  return hex(a) === hex(b);
};

function settingsFor(ctx: ApplyContext, what: string): DnsUpdateSettings {
  try {
    return dnsUpdateSettings(ctx.providers?.dns);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

/** Runs one exchange with the server, its errors naming the record set and the server. */
async function talk<T>(what: string, action: string, settings: DnsUpdateSettings, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new Error(`${what}: ${action} at ${serverName(settings)} failed: ${(err as Error).message}`);
  }
}

function recordSet(kind: RecordSetKind): ResourceHandler {
  const label = (s: { fqdn: string }) => `${s.fqdn} ${kind.type}`;
  return {
    attributes: { zone: true, name: true, ttl: true, [kind.attribute]: kind.spec },
    describe: (c) => `${c.name ? `${String(c.name)}.` : ''}${String(c.zone)} ${kind.type}`,

    async create(ctx, address, c) {
      const set = declared(kind, address, c);
      const what = `${address} (${label(set)})`;
      const settings = settingsFor(ctx, what);
      const change = { zone: set.zone, name: set.fqdn, type: kind.type };
      await talk(what, 'the update', settings, () => replaceRecordSet(settings, change, set.ttl, set.wire));
      // As the provider's Create, which reads the set back into its state: a server that said NOERROR
      // but does not serve the records (a CNAME at that name, a name outside the zone) is an error.
      const live = await talk(what, 'reading it back', settings, () => readRecordSet(settings, set.fqdn, kind.type));
      if (!live || !sameRecords(live.records, set.canonical)) {
        throw new Error(`${what}: ${serverName(settings)} accepted the update but ${live ? `serves ${live.records.length} other record(s)` : 'does not serve the record set'} (another record at that name in the way?)`);
      }
      return {
        id: set.fqdn,
        zone: set.zone,
        ...(set.name === undefined ? {} : { name: set.name }),
        ttl: set.ttl,
        [kind.attribute]: kind.attribute === 'cname' ? set.values[0] : set.values,
      };
    },

    async exists(ctx, entry) {
      const set = declared(kind, String(entry.outputs.id), entry.outputs);
      const what = `${String(entry.outputs.id)} ${kind.type}`;
      const settings = settingsFor(ctx, what);
      const live = await talk(what, 'the query', settings, () => readRecordSet(settings, set.fqdn, kind.type));
      return live !== undefined && live.ttl === set.ttl && sameRecords(live.records, set.canonical);
    },

    async destroy(ctx, entry) {
      const zone = String(entry.outputs.zone);
      const fqdn = String(entry.outputs.id);
      const what = `${fqdn} ${kind.type}`;
      const settings = settingsFor(ctx, what);
      await talk(what, 'deleting it', settings, () => deleteRecordSet(settings, { zone, name: fqdn, type: kind.type }));
    },
  };
}

const strings = (v: unknown) => list(v).map(String);
const blocks = (v: unknown) => list(v) as Record<string, unknown>[];

export const dnsARecordSet = recordSet({ type: 'A', attribute: 'addresses', nameRequired: false, spec: true, values: strings, wire: (v) => rdata.A(String(v)) });

export const dnsAaaaRecordSet = recordSet({ type: 'AAAA', attribute: 'addresses', nameRequired: false, spec: true, values: strings, wire: (v) => rdata.AAAA(String(v)) });

export const dnsMxRecordSet = recordSet({
  type: 'MX',
  attribute: 'mx',
  nameRequired: false,
  spec: { preference: true, exchange: true },
  values: (v) => blocks(v).map((b) => ({ preference: b.preference, exchange: String(b.exchange) })),
  wire: (v) => rdata.MX((v as { preference: unknown }).preference, (v as { exchange: string }).exchange),
});

/** Each element of `txt` is one TXT record; one longer than 255 bytes is several character-strings in it. */
export const dnsTxtRecordSet = recordSet({ type: 'TXT', attribute: 'txt', nameRequired: false, spec: true, values: strings, wire: (v) => rdata.TXT(String(v)) });

export const dnsSrvRecordSet = recordSet({
  type: 'SRV',
  attribute: 'srv',
  nameRequired: true,
  spec: { priority: true, weight: true, port: true, target: true },
  values: (v) => blocks(v).map((b) => ({ priority: b.priority, weight: b.weight, port: b.port, target: String(b.target) })),
  wire: (v) => {
    const s = v as { priority: unknown; weight: unknown; port: unknown; target: string };
    return rdata.SRV(s.priority, s.weight, s.port, s.target);
  },
});

export const dnsCnameRecord = recordSet({ type: 'CNAME', attribute: 'cname', nameRequired: true, spec: true, values: (v) => (v === undefined ? [] : [String(v)]), wire: (v) => rdata.CNAME(String(v)) });
