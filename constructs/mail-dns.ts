import { dependable, Lazy, TerraformOutput, TerraformResource, Token } from 'cdktf';
import { Construct } from 'constructs';
import type { DnsConfig, MailService } from '../config/model';
import { DnsRecordSet, renderDnsRecords, renderMtaStsPolicy, renderZoneFile } from '../render/dns-records';
import { fqdnOf, IDnsBackend } from './dns/backend';
import { terraformLiteral } from './terraform-literal';

export interface MailDnsProps {
  readonly hostname: string;
  readonly dns: DnsConfig;
  /** Host port of each published service (for the SRV records). */
  readonly ports: Readonly<Partial<Record<MailService, number>>>;
  /** Where records are published; none: only the zone-file output. */
  readonly backend?: IDnsBackend;
  /** The DKIM selector and each domain's DKIM TXT strings, when signing is on. */
  readonly dkim?: { readonly selector: string; readonly txtRecord: (domain: string) => readonly string[] };
}

/**
 * The mail domains' DNS records, published through a backend in the same
 * plan that deploys the servers, and always written as a zone-file fragment,
 * the MTA-STS policies and a PTR reminder in outputs.
 */
export class MailDns extends Construct {
  private readonly domains: string[] = [];
  private readonly published: DnsRecordSet[] = [];
  private readonly hostRecords: TerraformResource[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MailDnsProps,
  ) {
    super(scope, id);
    // The mail host's own records do not depend on any domain.
    for (const set of this.recordsFor([])) this.publish(set);
    const mtaSts = props.dns.mtaSts;
    new TerraformOutput(this, 'zone_file', {
      staticId: true,
      description: 'The DNS records as a BIND zone-file fragment, for review or for a DNS service managed by hand.',
      // DKIM values resolved one by one first: cdktf rescans the whole string for every token in it (quadratic in
      // domains). Plain strings are made literal one by one, each quoted on its own in the zone file.
      value: Lazy.stringValue({
        produce: (context) => renderZoneFile(this.published.map((s) => (s.txt ? { ...s, txt: s.txt.map((t) => (Token.isUnresolved(t) ? (context.resolve(t) as string) : terraformLiteral(t))) } : s))),
      }),
    });
    if (mtaSts) {
      new TerraformOutput(this, 'mta_sts_policies', {
        staticId: true,
        description: 'Per domain, the MTA-STS policy to serve at https://mta-sts.<domain>/.well-known/mta-sts.txt.',
        value: Lazy.anyValue({ produce: () => Object.fromEntries([...this.domains].sort().map((d) => [d, renderMtaStsPolicy(props.hostname, mtaSts)])) }),
      });
    }
    new TerraformOutput(this, 'ptr_reminder', {
      staticId: true,
      description: 'Reverse DNS is set by whoever owns the address, not in your zone: ask for these PTR records.',
      value: props.dns.addresses.length
        ? props.dns.addresses.map((a) => `PTR of ${a} -> ${props.hostname}. (ask the owner of the address; receivers check it)`)
        : [`Set dns.addresses, then ask the owner of each address for a PTR record -> ${props.hostname}.`],
    });
  }

  /** Declares the records of one more mail domain. */
  public addDomain(domain: string): void {
    if (this.domains.includes(domain)) throw new Error(`DNS records of "${domain}" are already added`);
    this.domains.push(domain);
    for (const set of this.recordsFor([domain]).filter((s) => !s.purpose.startsWith('host-'))) this.publish(set);
  }

  private recordsFor(domains: string[]): DnsRecordSet[] {
    return renderDnsRecords({
      hostname: this.props.hostname,
      domains,
      dns: this.props.dns,
      ports: this.props.ports,
      dkimSelector: this.props.dkim?.selector,
      dkimTxt: this.props.dkim?.txtRecord,
    });
  }

  private publish(set: DnsRecordSet): void {
    this.published.push(set);
    // One construct per record set, named by owner and type: stable ids, readable plans.
    const scope = new Construct(this, `${fqdnOf(set)} ${set.type}`);
    this.props.backend?.publish(scope, set);
    const resources = scope.node.findAll().filter((c): c is TerraformResource => c instanceof TerraformResource);
    if (set.purpose.startsWith('host-')) this.hostRecords.push(...resources);
    // BIND (check-integrity) refuses an MX or SRV whose in-zone target has no address yet.
    if (set.type === 'MX' || set.type === 'SRV') {
      for (const r of resources) r.dependsOn = [...(r.dependsOn ?? []), ...this.hostRecords.map((h) => dependable(h))];
    }
  }
}
