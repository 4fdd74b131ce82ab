/**
 * MailServer composed into a larger stack of the operator's own: a company
 * stack that already runs a website container and now adds mail, declared in
 * code rather than from mailstack.yaml. Synthesize with
 * `npx ts-node examples/composed-stack.ts` (writes ./cdktf.out).
 */
import { Container } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { App, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { hashPassword, MailServer } from '../constructs';

export interface CompanyStackProps {
  /** Clear-text passwords by address, e.g. from a secret store at synth time; only hashes reach the output. */
  readonly passwords: Readonly<Record<string, string>>;
}

export class CompanyStack extends TerraformStack {
  public readonly mail: MailServer;

  constructor(scope: Construct, id: string, props: CompanyStackProps) {
    super(scope, id);
    const docker = new DockerProvider(this, 'Docker', { host: 'unix:///var/run/docker.sock' });
    new TlsProvider(this, 'Tls');

    // What the stack had before mail: a website.
    const web = new Image(this, 'WebImage', { name: 'nginx:stable', keepLocally: true, provider: docker });
    new Container(this, 'Web', { name: 'company-web', image: web.imageId, ports: [{ internal: 80, external: 8080 }], provider: docker });

    // Mail, beside it: providers are taken from this stack.
    this.mail = new MailServer(this, 'Mail', {
      hostname: 'mail.company.test',
      namePrefix: 'company-mail',
      ports: { smtp: 25, submission: 587, submissions: 465, imaps: 993, pop3s: 995 },
      // The office LAN relays without logging in; postfix needs its real address, so host networking.
      relayNetworks: ['10.1.15.0/24'],
      hostNetwork: true,
      dockerProvider: docker,
    });
    this.mail.addDomain('company.test');
    for (const address of Object.keys(props.passwords).sort()) {
      this.mail.addMailbox({ address, passwordHash: hashPassword(address, props.passwords[address]) });
    }
    this.mail.addAlias('postmaster@company.test', 'ops@company.test');
    this.mail.addAlias('sales@company.test', ['ana@company.test', 'ops@company.test']);

    new TerraformOutput(this, 'mail_host', { value: this.mail.hostname });
  }
}

if (require.main === module) {
  const app = new App();
  new CompanyStack(app, 'company', { passwords: { 'ana@company.test': process.env.ANA_PASSWORD ?? 'change-me', 'ops@company.test': process.env.OPS_PASSWORD ?? 'change-me-too' } });
  app.synth();
}
