import { Container } from '@cdktf/provider-docker/lib/container';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { checkLabel } from '../config/rules';
import { SOCKET_DIR } from '../render/layout';
import { opendkimKeyFile, OpendkimModel, renderInternalHosts, renderKeyTable, renderOpendkimConf, renderSigningTable } from '../render/opendkim';
import { mailContainer, MailFile } from './mail-container';
import { MailImage } from './mail-image';
import { MailVolumes } from './mail-volumes';
import { renderedFile, terraformLiteral } from './terraform-literal';

export interface DkimProps {
  readonly namePrefix: string;
  readonly hostname: string;
  readonly networkName: string;
  readonly volumes: MailVolumes;
  /** Networks whose unauthenticated mail is signed too. @default [] */
  readonly internalNetworks?: readonly string[];
  /** @default 'mailstack' */
  readonly selector?: string;
  /** @default 2048 */
  readonly keyBits?: 1024 | 2048 | 3072 | 4096;
  /** @default 'debian:bookworm-slim' */
  readonly baseImage?: string;
  readonly dockerProvider?: DockerProvider;
  readonly tlsProvider?: TlsProvider;
}

/** Length of the base64 SubjectPublicKeyInfo of an RSA key with e=65537, by modulus size. */
export const RSA_SPKI_BASE64_LENGTH: Readonly<Record<number, number>> = { 1024: 216, 2048: 392, 3072: 564, 4096: 736 };

/**
 * DKIM signing: one RSA key per mail domain from the tls provider (rotating a
 * key is replacing its resource), and an OpenDKIM milter container that
 * postfix reaches through the shared socket volume. The private keys reach
 * the signer only by upload.
 */
export class Dkim extends Construct {
  public readonly selector: string;
  public readonly image: MailImage;
  public readonly container: Container;
  private readonly keys = new Map<string, PrivateKey>();
  private readonly keyBits: 1024 | 2048 | 3072 | 4096;
  private readonly tlsProvider?: TlsProvider;

  constructor(scope: Construct, id: string, props: DkimProps) {
    super(scope, id);
    this.selector = props.selector ?? 'mailstack';
    const reason = checkLabel(this.selector);
    if (reason) throw new Error(`DKIM selector "${this.selector}" ${reason}`);
    this.keyBits = props.keyBits ?? 2048;
    this.tlsProvider = props.tlsProvider;
    const model = (): OpendkimModel => ({ domains: [...this.keys.keys()], selector: this.selector, internalNetworks: props.internalNetworks ?? [] });
    const text = (render: (m: OpendkimModel) => string) => renderedFile(model, render);
    const files = (): MailFile[] => [
      { path: '/etc/opendkim/opendkim.conf', content: terraformLiteral(renderOpendkimConf()) },
      { path: '/etc/opendkim/KeyTable', content: text(renderKeyTable) },
      { path: '/etc/opendkim/SigningTable', content: text(renderSigningTable) },
      { path: '/etc/opendkim/InternalHosts', content: text(renderInternalHosts) },
      ...[...this.keys].sort(([a], [b]) => (a < b ? -1 : 1)).map(([domain, key]) => ({ path: opendkimKeyFile(domain), content: key.privateKeyPem, permissions: '0600' })),
    ];
    this.image = new MailImage(this, 'Image', { imageName: 'opendkim', namePrefix: props.namePrefix, baseImage: props.baseImage, provider: props.dockerProvider });
    this.container = mailContainer(this, 'Resource', {
      name: `${props.namePrefix}-opendkim`,
      role: 'opendkim',
      namePrefix: props.namePrefix,
      imageId: this.image.imageId,
      hostname: props.hostname,
      networkName: props.networkName,
      ports: {},
      bindAddress: '127.0.0.1',
      volumes: [{ volume: props.volumes.sockets, containerPath: SOCKET_DIR }],
      files,
      provider: props.dockerProvider,
    });
  }

  /** Makes the signing key of a domain. Its construct id is the domain: renaming it rotates the key. */
  public addDomain(domain: string): void {
    if (this.keys.has(domain)) throw new Error(`DKIM key of "${domain}" is already added`);
    this.keys.set(domain, new PrivateKey(this, domain, { provider: this.tlsProvider, algorithm: 'RSA', rsaBits: this.keyBits }));
  }

  /**
   * The DKIM TXT record of a domain as character-strings of at most 255 bytes,
   * cut from the key with Terraform's replace() and substr() (the key exists
   * only at apply time; its length is fixed by its size).
   */
  public txtRecord(domain: string): string[] {
    const key = this.keys.get(domain);
    if (!key) throw new Error(`no DKIM key for "${domain}"`);
    const base64 = Fn.replace(Fn.replace(Fn.replace(key.publicKeyPem, '-----BEGIN PUBLIC KEY-----', ''), '-----END PUBLIC KEY-----', ''), '\n', '');
    const prefix = 'v=DKIM1; k=rsa; p=';
    const total = RSA_SPKI_BASE64_LENGTH[this.keyBits];
    const strings: string[] = [];
    for (let offset = 0, first = true; offset < total; first = false) {
      const room = first ? 255 - prefix.length : 255;
      const part = Fn.substr(base64, offset, Math.min(room, total - offset));
      strings.push(first ? `${prefix}${part}` : part);
      offset += room;
    }
    return strings;
  }
}
