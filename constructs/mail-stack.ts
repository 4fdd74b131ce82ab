import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { Fn, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { MailstackConfig } from '../config/model';
import { MailServer } from './mail-server';

/**
 * The stack `main.ts` synthesizes from mailstack.yaml: the docker and tls
 * providers and one MailServer. Anyone composing a larger stack uses
 * MailServer directly instead.
 */
export class MailStack extends TerraformStack {
  public readonly mailServer: MailServer;

  constructor(scope: Construct, id: string, config: MailstackConfig) {
    super(scope, id);
    const dockerProvider = new DockerProvider(this, 'Docker', { host: config.docker.host });
    const tlsProvider = new TlsProvider(this, 'Tls');
    const { certFile, keyFile } = config.tls;
    this.mailServer = new MailServer(this, 'MailServer', {
      hostname: config.hostname,
      domains: [...config.domains],
      mailboxes: config.mailboxes.map((m) => ({ ...m })),
      aliases: Object.fromEntries(Object.entries(config.aliases).map(([k, v]) => [k, [...v]])),
      relayNetworks: [...config.relay.networks],
      messageSizeBytes: config.limits.messageSizeBytes,
      ports: config.ports,
      bindAddress: config.docker.bindAddress,
      namePrefix: config.docker.namePrefix,
      // Read by Terraform at plan time, and kept out of plan output.
      certificate: certFile && keyFile ? { certificatePem: Fn.file(certFile), privateKeyPem: Fn.sensitive(Fn.file(keyFile)) } : undefined,
      dockerProvider,
      tlsProvider,
    });
    new TerraformOutput(this, 'hostname', { value: config.hostname, description: 'The mail host (MX target).' });
    new TerraformOutput(this, 'ports', { value: config.ports, description: 'Published host port per service.' });
  }
}
