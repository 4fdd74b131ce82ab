import { ARecordSet } from '@cdktf/provider-dns/lib/a-record-set';
import { AaaaRecordSet } from '@cdktf/provider-dns/lib/aaaa-record-set';
import { MxRecordSet } from '@cdktf/provider-dns/lib/mx-record-set';
import { DnsProvider } from '@cdktf/provider-dns/lib/provider';
import { SrvRecordSet } from '@cdktf/provider-dns/lib/srv-record-set';
import { TxtRecordSet } from '@cdktf/provider-dns/lib/txt-record-set';
import { Construct } from 'constructs';
import { DnsRecordSet } from '../../render/dns-records';
import { terraformText } from '../terraform-literal';
import { IDnsBackend } from './backend';

export interface Rfc2136BackendProps {
  readonly server: string;
  /** @default 53 */
  readonly port?: number;
  /** TSIG key name; the secret comes from DNS_UPDATE_KEYSECRET at deploy time. @default unsigned updates */
  readonly keyName?: string;
  /** @default 'hmac-sha256' */
  readonly keyAlgorithm?: string;
}

/**
 * RFC 2136 dynamic updates through hashicorp/dns (BIND, Knot, PowerDNS).
 * Each record set is one resource: exactly the declared values, nothing else,
 * at that name and type.
 */
export class Rfc2136Backend implements IDnsBackend {
  public readonly provider: DnsProvider;

  /** Makes the dns provider under `scope`, unless one is given to share. */
  constructor(scope: Construct, props: Rfc2136BackendProps & { readonly provider?: DnsProvider }) {
    this.provider =
      props.provider ??
      new DnsProvider(scope, 'Provider', {
        update: [{ server: props.server, port: props.port ?? 53, keyName: props.keyName, keyAlgorithm: props.keyName ? (props.keyAlgorithm ?? 'hmac-sha256') : undefined }],
      });
  }

  publish(scope: Construct, set: DnsRecordSet): void {
    const common = { provider: this.provider, zone: `${set.zone}.`, ttl: set.ttl };
    const name = set.name || undefined;
    switch (set.type) {
      case 'A':
        new ARecordSet(scope, 'Resource', { ...common, name, addresses: [...(set.addresses ?? [])] });
        return;
      case 'AAAA':
        new AaaaRecordSet(scope, 'Resource', { ...common, name, addresses: [...(set.addresses ?? [])] });
        return;
      case 'MX':
        new MxRecordSet(scope, 'Resource', { ...common, name, mx: (set.mx ?? []).map((m) => ({ ...m })) });
        return;
      case 'TXT':
        // One record: the provider splits a value over 255 bytes into character-strings itself.
        new TxtRecordSet(scope, 'Resource', { ...common, name, txt: [terraformText((set.txt ?? []).join(''))] });
        return;
      case 'SRV':
        new SrvRecordSet(scope, 'Resource', { ...common, name: set.name, srv: (set.srv ?? []).map((s) => ({ ...s })) });
        return;
    }
  }
}
