/**
 * The DNS records a mail system needs, per domain: MX, SPF, DKIM, DMARC,
 * MTA-STS, TLS-RPT, the RFC 6186/8314 SRV records, and A/AAAA for the mail
 * host. Pure: the DKIM key, known only at apply time, comes in as the
 * character-strings of its TXT record (Terraform expressions or text).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { DnsConfig, MailService } from '../config/model';
import { zoneOf } from '../config/rules';

export type DnsRecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'SRV';

export interface MxValue {
  readonly preference: number;
  readonly exchange: string;
}

export interface SrvValue {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** One record set: every value of one name and type. */
export interface DnsRecordSet {
  /** What it is for, stable: used in construct ids ("mx", "spf", "dkim", "srv-imaps", ...). */
  readonly purpose: string;
  /** The zone it belongs to, without trailing dot. */
  readonly zone: string;
  /** Owner name relative to the zone; '' is the apex. */
  readonly name: string;
  readonly type: DnsRecordType;
  readonly ttl: number;
  /** A/AAAA: addresses. */
  readonly addresses?: readonly string[];
  readonly mx?: readonly MxValue[];
  /** TXT: one record, as its character-strings (each at most 255 bytes). */
  readonly txt?: readonly string[];
  readonly srv?: readonly SrvValue[];
}

export interface DnsRecordsInput {
  readonly hostname: string;
  readonly domains: readonly string[];
  readonly dns: DnsConfig;
  /** Host port of each published service. */
  readonly ports: Readonly<Partial<Record<MailService, number>>>;
  /** DKIM selector, or undefined when DKIM is off. */
  readonly dkimSelector?: string;
  /** The DKIM TXT record's character-strings for a domain. */
  readonly dkimTxt?: (domain: string) => readonly string[];
}

/** RFC 6186 / RFC 8314 service labels and the mailstack service behind each. */
const SRV_SERVICES: readonly [string, MailService][] = [
  ['_submission._tcp', 'submission'],
  ['_submissions._tcp', 'submissions'],
  ['_imap._tcp', 'imap'],
  ['_imaps._tcp', 'imaps'],
  ['_pop3._tcp', 'pop3'],
  ['_pop3s._tcp', 'pop3s'],
];


const relative = (name: string, zone: string) => (name === zone ? '' : name.slice(0, -(zone.length + 1)));

/** Splits a text into TXT character-strings of at most 255 bytes (the values here are ASCII). */
export function txtStrings(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length ? out : [''];
}

export function renderDnsRecords(input: DnsRecordsInput): DnsRecordSet[] {
  const { dns, hostname } = input;
  const sets: DnsRecordSet[] = [];
  const add = (purpose: string, fqdn: string, type: DnsRecordType, values: Omit<DnsRecordSet, 'purpose' | 'zone' | 'name' | 'type' | 'ttl'>) => {
    const zone = zoneOf(fqdn, dns.zones);
    if (!zone) throw new Error(`${fqdn} is in none of the DNS zones (${dns.zones.join(', ')})`);
    sets.push({ purpose, zone, name: relative(fqdn, zone), type, ttl: dns.ttl, ...values });
  };
  const v4 = dns.addresses.filter((a) => isIP(a) === 4);
  const v6 = dns.addresses.filter((a) => isIP(a) === 6);
  if (v4.length) add('host-a', hostname, 'A', { addresses: v4 });
  if (v6.length) add('host-aaaa', hostname, 'AAAA', { addresses: v6 });

  for (const domain of input.domains) {
    const postmaster = `postmaster@${domain}`;
    if (dns.mx) add('mx', domain, 'MX', { mx: [{ preference: 10, exchange: `${hostname}.` }] });
    if (dns.spf) add('spf', domain, 'TXT', { txt: txtStrings(dns.spf) });
    if (dns.dkim && input.dkimSelector && input.dkimTxt) add('dkim', `${input.dkimSelector}._domainkey.${domain}`, 'TXT', { txt: input.dkimTxt(domain) });
    if (dns.dmarc) {
      const d = dns.dmarc;
      const tags = [`v=DMARC1`, `p=${d.policy}`, `adkim=${d.adkim}`, `aspf=${d.aspf}`, ...(d.percent !== 100 ? [`pct=${d.percent}`] : []), `rua=mailto:${d.rua ?? postmaster}`];
      add('dmarc', `_dmarc.${domain}`, 'TXT', { txt: txtStrings(tags.join('; ')) });
    }
    if (dns.mtaSts) add('mta-sts', `_mta-sts.${domain}`, 'TXT', { txt: [`v=STSv1; id=${mtaStsPolicyId(renderMtaStsPolicy(hostname, dns.mtaSts))}`] });
    if (dns.tlsRpt) add('tls-rpt', `_smtp._tls.${domain}`, 'TXT', { txt: [`v=TLSRPTv1; rua=mailto:${dns.tlsRpt.rua ?? postmaster}`] });
    if (dns.srv) {
      for (const [label, service] of SRV_SERVICES) {
        const port = input.ports[service];
        // RFC 6186 3.4: target "." says the service is not offered.
        const srv = port === undefined ? { priority: 0, weight: 0, port: 0, target: '.' } : { priority: 0, weight: 1, port, target: `${hostname}.` };
        add(`srv-${service}`, `${label}.${domain}`, 'SRV', { srv: [srv] });
      }
    }
  }
  return sets;
}

/** The MTA-STS policy (RFC 8461 3.2), to be served at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
export function renderMtaStsPolicy(hostname: string, policy: Exclude<DnsConfig['mtaSts'], false>): string {
  return `version: STSv1\r\nmode: ${policy.mode}\r\nmx: ${hostname}\r\nmax_age: ${policy.maxAgeSeconds}\r\n`;
}

/** The policy id changes whenever the policy does, so senders fetch it again. */
export function mtaStsPolicyId(policy: string): string {
  return createHash('sha256').update(policy).digest('hex').slice(0, 20);
}

const quote = (s: string) => `"${s}"`;

/** The record sets as a BIND zone-file fragment, one $ORIGIN block per zone. */
export function renderZoneFile(sets: readonly DnsRecordSet[]): string {
  // Grouped in one pass: a filter per zone is quadratic when every domain is its own zone.
  const byZone = new Map<string, DnsRecordSet[]>();
  for (const s of sets) {
    const list = byZone.get(s.zone);
    if (list) list.push(s);
    else byZone.set(s.zone, [s]);
  }
  const zones = [...byZone.keys()].sort();
  const blocks = zones.map((zone) => {
    const lines = byZone
      .get(zone)!
      .flatMap((s) => {
        const owner = (s.name || '@').padEnd(28);
        const head = `${owner} ${String(s.ttl).padEnd(5)} IN ${s.type.padEnd(5)}`;
        switch (s.type) {
          case 'A':
          case 'AAAA':
            return (s.addresses ?? []).map((a) => `${head} ${a}`);
          case 'MX':
            return (s.mx ?? []).map((m) => `${head} ${m.preference} ${m.exchange}`);
          case 'TXT':
            return [`${head} ${(s.txt ?? []).map(quote).join(' ')}`];
          case 'SRV':
            return (s.srv ?? []).map((v) => `${head} ${v.priority} ${v.weight} ${v.port} ${v.target}`);
        }
      });
    return `$ORIGIN ${zone}.\n${lines.join('\n')}\n`;
  });
  return `; DNS records for the mail system, rendered by mailstack.\n${blocks.join('\n')}`;
}
