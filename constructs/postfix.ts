import { Container } from '@cdktf/provider-docker/lib/container';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { Construct } from 'constructs';
import { POSTFIX_DIRECTORY_DIR, POSTFIX_MAPS, POSTFIX_QUEUE_DIR, POSTFIX_SOCKET_DIR, TLS_CERT_FILE, TLS_KEY_FILE } from '../render/layout';
import { HostListeners, MailSystemModel } from '../render/model';
import { renderMainCf, smarthostNexthop } from '../render/postfix-main-cf';
import type { Smarthost } from '../config/model';
import { renderMasterCf } from '../render/postfix-master-cf';
import { MailCertificate } from './mail-certificate';
import { mailContainer, MailFile } from './mail-container';
import { renderedFile, terraformLiteral } from './terraform-literal';
import { MailImage } from './mail-image';
import { MailVolumes } from './mail-volumes';

/** Something that can say, at synth time, what the mail system is. */
export interface IMailSystem {
  readonly model: MailSystemModel;
}

/** Host ports of postfix's listeners; a listener left out is not published. */
export interface PostfixPorts {
  /** SMTP from other servers, container port 25. @default not published */
  readonly smtp?: number;
  /** Submission (STARTTLS + AUTH), container port 587. @default not published */
  readonly submission?: number;
  /** Submission over implicit TLS, container port 465. @default not published */
  readonly submissions?: number;
}

export interface PostfixProps {
  readonly system: IMailSystem;
  readonly namePrefix: string;
  readonly hostname: string;
  readonly networkName: string;
  readonly volumes: MailVolumes;
  readonly certificate: MailCertificate;
  /** @default {} */
  readonly ports?: PostfixPorts;
  /** @default '0.0.0.0' */
  readonly bindAddress?: string;
  /** @default 'debian:bookworm-slim' */
  readonly baseImage?: string;
  /** The smarthost password (a sensitive Terraform variable's value), when the model's smarthost logs in. */
  readonly smarthostPassword?: string;
  /** Also publish the ports on [::] (bindAddress 0.0.0.0) or [::1] (127.0.0.1) for IPv6 clients. @default false */
  readonly publishIpv6?: boolean;
  /** Constructs the container starts after (dovecot, whose sockets it uses). @default [] */
  readonly dependsOn?: Construct[];
  /** @default the stack's default docker provider */
  readonly provider?: DockerProvider;
}

/** The postfix container: SMTP in, submission, relay control, delivery to dovecot over LMTP. */
export class Postfix extends Construct {
  public readonly image: MailImage;
  public readonly container: Container;

  constructor(scope: Construct, id: string, props: PostfixProps) {
    super(scope, id);
    const render = (f: (m: MailSystemModel) => string) => renderedFile(() => props.system.model, f);
    this.image = new MailImage(this, 'Image', { imageName: 'postfix', namePrefix: props.namePrefix, baseImage: props.baseImage, provider: props.provider });
    // The model says where postfix listens when it runs in the host's network stack.
    const hostListeners = props.system.model.hostListeners;
    this.container = mailContainer(this, 'Resource', {
      name: `${props.namePrefix}-postfix`,
      role: 'postfix',
      namePrefix: props.namePrefix,
      imageId: this.image.imageId,
      hostname: props.hostname,
      networkName: props.networkName,
      ports: { ...props.ports },
      extraPorts: props.system.model.extraSmtpPorts,
      bindAddress: props.bindAddress ?? '0.0.0.0',
      publishIpv6: props.publishIpv6,
      hostNetwork: hostListeners !== undefined,
      env: hostListeners ? [`MAILSTACK_SMTP_PROBE=${smtpProbe(hostListeners, props.system.model.extraSmtpPorts)}`] : [],
      volumes: [
        { volume: props.volumes.queue, containerPath: POSTFIX_QUEUE_DIR },
        { volume: props.volumes.sockets, containerPath: POSTFIX_SOCKET_DIR },
        { volume: props.volumes.directoryPostfix, containerPath: POSTFIX_DIRECTORY_DIR, readOnly: true },
      ],
      files: [
        { path: '/etc/postfix/main.cf', content: render(renderMainCf) },
        { path: '/etc/postfix/master.cf', content: render(renderMasterCf) },
        { path: TLS_CERT_FILE, content: props.certificate.certificatePem },
        { path: TLS_KEY_FILE, content: props.certificate.privateKeyPem, permissions: '0600' },
        ...saslPasswordFile(props.system.model.smarthost, props.smarthostPassword),
      ],
      dependsOn: props.dependsOn,
      provider: props.provider,
    });
  }
}

/** The smarthost's login, `[host]:port user:password`; the password is only known at apply time. */
function saslPasswordFile(smarthost: Smarthost | undefined, password: string | undefined): MailFile[] {
  if (!smarthost?.username) return [];
  if (password === undefined) throw new Error('the smarthost has a username but no password variable');
  return [{ path: POSTFIX_MAPS.saslPasswords, content: `${terraformLiteral(`${smarthostNexthop(smarthost)} ${smarthost.username}:`)}${password}\n`, permissions: '0600' }];
}

/** Where the health check finds a 220 greeting when postfix listens on host ports. */
function smtpProbe(host: HostListeners, extraSmtpPorts: readonly number[]): string {
  const port = host.smtp ?? host.submission ?? extraSmtpPorts[0];
  if (port === undefined) throw new Error('postfix in the host network needs a smtp, submission or extra SMTP port (its health is checked there)');
  const address = host.bindAddress === '0.0.0.0' ? '127.0.0.1' : host.bindAddress === '::' ? '::1' : host.bindAddress;
  return `${address}:${port}`;
}
