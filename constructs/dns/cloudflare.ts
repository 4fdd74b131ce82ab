import { DnsRecord } from '@cdktf/provider-cloudflare/lib/dns-record';
import { CloudflareProvider } from '@cdktf/provider-cloudflare/lib/provider';
import { Construct } from 'constructs';
import { DnsRecordSet } from '../../render/dns-records';
import { terraformText } from '../terraform-literal';
import { fqdnOf, IDnsBackend } from './backend';

export interface CloudflareBackendProps {
  /** Zone id per zone name. */
  readonly zoneIds: Readonly<Record<string, string>>;
}

/** Cloudflare's API through cloudflare/cloudflare; the token comes from CLOUDFLARE_API_TOKEN at deploy time. */
export class CloudflareBackend implements IDnsBackend {
  public readonly provider: CloudflareProvider;

  /** Makes the cloudflare provider under `scope`, unless one is given to share. */
  constructor(
    scope: Construct,
    private readonly props: CloudflareBackendProps & { readonly provider?: CloudflareProvider },
  ) {
    this.provider = props.provider ?? new CloudflareProvider(scope, 'Provider', {});
  }

  publish(scope: Construct, set: DnsRecordSet): void {
    const zoneId = this.props.zoneIds[set.zone];
    if (!zoneId) throw new Error(`no Cloudflare zone id for zone ${set.zone}`);
    // Cloudflare has one resource per record, not per set.
    const common = { provider: this.provider, zoneId, name: fqdnOf(set), ttl: set.ttl, type: set.type };
    switch (set.type) {
      case 'A':
      case 'AAAA':
        (set.addresses ?? []).forEach((a, i) => new DnsRecord(scope, i === 0 ? 'Resource' : `Resource${i}`, { ...common, content: a }));
        return;
      case 'MX':
        (set.mx ?? []).forEach((m, i) => new DnsRecord(scope, i === 0 ? 'Resource' : `Resource${i}`, { ...common, content: m.exchange.replace(/\.$/, ''), priority: m.preference }));
        return;
      case 'TXT':
        // Cloudflare takes the character-strings quoted, as in a zone file.
        new DnsRecord(scope, 'Resource', { ...common, content: terraformText((set.txt ?? []).map((s) => `"${s}"`).join(' ')) });
        return;
      case 'SRV':
        (set.srv ?? []).forEach((s, i) => new DnsRecord(scope, i === 0 ? 'Resource' : `Resource${i}`, { ...common, data: { priority: s.priority, weight: s.weight, port: s.port, target: s.target.replace(/\.$/, '') || '.' } }));
        return;
    }
  }
}
