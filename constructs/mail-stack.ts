import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { Fn, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { MailstackConfig } from '../config/model';
import { DnsConfig } from '../config/model';
import { IDnsBackend } from './dns/backend';
import { CloudflareBackend } from './dns/cloudflare';
import { Rfc2136Backend } from './dns/rfc2136';
import { MailServer } from './mail-server';

/** The backend the config names; none publishes nothing (the zone_file output remains). */
function dnsBackend(scope: Construct, dns: DnsConfig): IDnsBackend | undefined {
  switch (dns.provider) {
    case 'rfc2136':
      return new Rfc2136Backend(scope, { ...dns.rfc2136! });
    case 'cloudflare':
      return new CloudflareBackend(scope, { zoneIds: dns.cloudflare!.zoneIds });
    case 'none':
      return undefined;
  }
}

/**
 * The stack `main.ts` synthesizes from mailstack.yaml: the docker and tls
 * providers and one MailServer. Anyone composing a larger stack uses
 * MailServer directly instead.
 */
export class MailStack extends TerraformStack {
  public readonly mailServer: MailServer;

  constructor(scope: Construct, id: string, config: MailstackConfig) {
    super(scope, id);
    const { host, tls: engineTls, sshOptions } = config.docker;
    const dockerProvider = new DockerProvider(this, 'Docker', {
      host,
      // PEM contents read by Terraform at plan time (cert_path would impose its file names); the key stays out of plan output.
      ...(engineTls && { caMaterial: Fn.file(engineTls.caFile), certMaterial: Fn.file(engineTls.certFile), keyMaterial: Fn.sensitive(Fn.file(engineTls.keyFile)) }),
      ...(sshOptions && { sshOpts: [...sshOptions] }),
    });
    const tlsProvider = new TlsProvider(this, 'Tls');
    // Only the config decides between the backends; their providers sit in the stack itself.
    const { certFile, keyFile } = config.tls;
    this.mailServer = new MailServer(this, 'MailServer', {
      hostname: config.hostname,
      domains: [...config.domains],
      mailboxes: config.mailboxes.map((m) => ({ ...m })),
      aliases: Object.fromEntries(Object.entries(config.aliases).map(([k, v]) => [k, [...v]])),
      relayNetworks: [...config.relay.networks],
      messageSizeBytes: config.limits.messageSizeBytes,
      mailboxSizeBytes: config.limits.mailboxSizeBytes,
      clientLimits: {
        clientConnectionsPerMinute: config.limits.clientConnectionsPerMinute,
        clientConcurrentConnections: config.limits.clientConcurrentConnections,
        clientMessagesPerMinute: config.limits.clientMessagesPerMinute,
        clientAuthAttemptsPerMinute: config.limits.clientAuthAttemptsPerMinute,
      },
      protocols: [...config.protocols],
      ipv6: config.ipv6,
      hostNetwork: config.docker.hostNetwork,
      ports: config.ports,
      extraSmtpPorts: [...config.extraSmtpPorts],
      recipientDelimiter: config.recipientDelimiter,
      bindAddress: config.docker.bindAddress,
      namePrefix: config.docker.namePrefix,
      // Read by Terraform at plan time, and kept out of plan output.
      certificate: certFile && keyFile ? { certificatePem: Fn.file(certFile), privateKeyPem: Fn.sensitive(Fn.file(keyFile)) } : undefined,
      dockerProvider,
      tlsProvider,
      dkim: config.dkim.enabled && { selector: config.dkim.selector, keyBits: config.dkim.keyBits },
      dns: config.dns,
      dnsBackend: dnsBackend(this, config.dns),
      smarthost: config.relay.smarthost,
    });
    new TerraformOutput(this, 'hostname', { value: config.hostname, description: 'The mail host (MX target).' });
    new TerraformOutput(this, 'ports', { value: config.ports, description: 'Published host port per service.' });
  }
}
