import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { Construct } from 'constructs';
import { checkDomainName } from '../config/rules';

export interface MailCertificateProps {
  /** Name the certificate is for (the mail host). */
  readonly hostname: string;
  /**
   * PEM certificate chain (leaf first) the operator brings, e.g. `Fn.file(path)`.
   * @default a self-signed certificate made by the tls provider
   */
  readonly certificatePem?: string;
  /** PEM private key of `certificatePem`; required with it. */
  readonly privateKeyPem?: string;
  /**
   * Validity of the self-signed certificate.
   * @default 8760 (one year)
   */
  readonly validityHours?: number;
  /** @default the stack's default tls provider */
  readonly provider?: TlsProvider;
}

/** The TLS certificate postfix and dovecot present: brought, or self-signed. */
export class MailCertificate extends Construct {
  public readonly certificatePem: string;
  public readonly privateKeyPem: string;
  /** Set when the certificate is self-signed. */
  public readonly privateKey?: PrivateKey;
  public readonly selfSigned?: SelfSignedCert;

  constructor(scope: Construct, id: string, props: MailCertificateProps) {
    super(scope, id);
    const reason = checkDomainName(props.hostname);
    if (reason) throw new Error(`hostname "${props.hostname}" ${reason}`);
    if ((props.certificatePem === undefined) !== (props.privateKeyPem === undefined)) {
      throw new Error('certificatePem and privateKeyPem go together: give both or neither');
    }
    if (props.certificatePem !== undefined && props.privateKeyPem !== undefined) {
      this.certificatePem = props.certificatePem;
      this.privateKeyPem = props.privateKeyPem;
      return;
    }
    this.privateKey = new PrivateKey(this, 'Key', { provider: props.provider, algorithm: 'ECDSA', ecdsaCurve: 'P256' });
    this.selfSigned = new SelfSignedCert(this, 'Resource', {
      provider: props.provider,
      privateKeyPem: this.privateKey.privateKeyPem,
      // X.509 caps the CN at 64 characters; the name is in dnsNames either way, as clients read it.
      ...(props.hostname.length <= 64 ? { subject: [{ commonName: props.hostname }] } : {}),
      dnsNames: [props.hostname],
      validityPeriodHours: props.validityHours ?? 8760,
      earlyRenewalHours: 720,
      allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
    });
    this.certificatePem = this.selfSigned.certPem;
    this.privateKeyPem = this.privateKey.privateKeyPem;
  }
}
