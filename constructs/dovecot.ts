import { Container } from '@cdktf/provider-docker/lib/container';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Construct } from 'constructs';
import { renderDovecotConf } from '../render/dovecot-conf';
import { DOVECOT_DIRECTORY_DIR, SOCKET_DIR, MAIL_DIR, TLS_CERT_FILE, TLS_KEY_FILE } from '../render/layout';
import { MailSystemModel } from '../render/model';
import { MailCertificate } from './mail-certificate';
import { mailContainer } from './mail-container';
import { renderedFile } from './terraform-literal';
import { MailImage } from './mail-image';
import { MailVolumes } from './mail-volumes';
import { IMailSystem } from './postfix';

/** Host ports of dovecot's listeners; a listener left out is not published. */
export interface DovecotPorts {
  /** IMAP with STARTTLS required before login, container port 143. @default not published */
  readonly imap?: number;
  /** IMAP over implicit TLS, container port 993. @default not published */
  readonly imaps?: number;
  /** POP3 with STLS required before login, container port 110. @default not published */
  readonly pop3?: number;
  /** POP3 over implicit TLS, container port 995. @default not published */
  readonly pop3s?: number;
}

export interface DovecotProps {
  readonly system: IMailSystem;
  readonly namePrefix: string;
  readonly hostname: string;
  readonly networkName: string;
  readonly volumes: MailVolumes;
  readonly certificate: MailCertificate;
  /** @default {} */
  readonly ports?: DovecotPorts;
  /** @default '0.0.0.0' */
  readonly bindAddress?: string;
  /** Also publish the ports on [::] (bindAddress 0.0.0.0) or [::1] (127.0.0.1) for IPv6 clients. @default false */
  readonly publishIpv6?: boolean;
  /** @default 'debian:bookworm-slim' */
  readonly baseImage?: string;
  /** @default the stack's default docker provider */
  readonly provider?: DockerProvider;
}

/** The dovecot container: IMAP, POP3, LMTP delivery into Maildir, SASL for postfix. */
export class Dovecot extends Construct {
  public readonly image: MailImage;
  public readonly container: Container;

  constructor(scope: Construct, id: string, props: DovecotProps) {
    super(scope, id);
    const render = (f: (m: MailSystemModel) => string) => renderedFile(() => props.system.model, f);
    this.image = new MailImage(this, 'Image', { imageName: 'dovecot', namePrefix: props.namePrefix, baseImage: props.baseImage, provider: props.provider });
    this.container = mailContainer(this, 'Resource', {
      name: `${props.namePrefix}-dovecot`,
      role: 'dovecot',
      namePrefix: props.namePrefix,
      imageId: this.image.imageId,
      hostname: props.hostname,
      networkName: props.networkName,
      ports: { ...props.ports },
      bindAddress: props.bindAddress ?? '0.0.0.0',
      publishIpv6: props.publishIpv6,
      volumes: [
        { volume: props.volumes.mail, containerPath: MAIL_DIR },
        { volume: props.volumes.sockets, containerPath: SOCKET_DIR },
        { volume: props.volumes.directoryDovecot, containerPath: DOVECOT_DIRECTORY_DIR, readOnly: true },
      ],
      files: [
        { path: '/etc/dovecot/dovecot.conf', content: render(renderDovecotConf) },
        { path: TLS_CERT_FILE, content: props.certificate.certificatePem },
        { path: TLS_KEY_FILE, content: props.certificate.privateKeyPem, permissions: '0600' },
      ],
      provider: props.provider,
    });
  }
}
