import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ResourceHandler } from './handler';

x509.cryptoProvider.set(webcrypto as never);

/** The provider's curve names; `openssl` is what node reports for a parsed key. */
const CURVES: Record<string, { node: string; openssl: string; web: string; hash: string }> = {
  P224: { node: 'P-224', openssl: 'secp224r1', web: 'P-224', hash: 'SHA-256' },
  P256: { node: 'P-256', openssl: 'prime256v1', web: 'P-256', hash: 'SHA-256' },
  P384: { node: 'P-384', openssl: 'secp384r1', web: 'P-384', hash: 'SHA-384' },
  P521: { node: 'P-521', openssl: 'secp521r1', web: 'P-521', hash: 'SHA-512' },
};

export interface PrivateKeyOutputs {
  readonly private_key_pem: string;
  readonly private_key_pem_pkcs8: string;
  readonly public_key_pem: string;
  readonly id: string;
  readonly algorithm: string;
}

/** A key as hashicorp/tls makes it: private_key_pem in SEC1 (ECDSA) or PKCS#1 (RSA), plus PKCS#8 and the public key. */
export function generatePrivateKey(algorithm: string, options: { ecdsaCurve?: string; rsaBits?: number } = {}): PrivateKeyOutputs {
  let pair;
  if (algorithm === 'ECDSA') {
    const curve = CURVES[options.ecdsaCurve ?? 'P224'];
    if (!curve) throw new Error(`ecdsa_curve ${options.ecdsaCurve} is not one of ${Object.keys(CURVES).join(', ')}`);
    pair = generateKeyPairSync('ec', { namedCurve: curve.node });
  } else if (algorithm === 'RSA') {
    pair = generateKeyPairSync('rsa', { modulusLength: options.rsaBits ?? 2048 });
  } else {
    throw new Error(`algorithm ${algorithm} is not supported by the local applier (ECDSA, RSA)`);
  }
  const pem = pair.privateKey.export({ type: algorithm === 'ECDSA' ? 'sec1' : 'pkcs1', format: 'pem' }).toString();
  const publicDer = pair.publicKey.export({ type: 'spki', format: 'der' });
  return {
    private_key_pem: pem,
    private_key_pem_pkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    public_key_pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    id: createHash('sha1').update(publicDer).digest('hex'),
    algorithm,
  };
}

export interface SelfSignedOptions {
  readonly privateKeyPem: string;
  readonly commonName?: string;
  readonly organization?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validityPeriodHours: number;
  readonly allowedUses?: readonly string[];
  readonly isCaCertificate?: boolean;
  readonly now?: Date;
}

const KEY_USAGES: Record<string, number> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
};
const EXTENDED_USAGES: Record<string, string> = {
  server_auth: x509.ExtendedKeyUsage.serverAuth,
  client_auth: x509.ExtendedKeyUsage.clientAuth,
  code_signing: x509.ExtendedKeyUsage.codeSigning,
  email_protection: x509.ExtendedKeyUsage.emailProtection,
};

/** A self-signed certificate as hashicorp/tls makes it, signed with the given key. */
export async function selfSignedCertificate(o: SelfSignedOptions): Promise<{ certPem: string; notBefore: Date; notAfter: Date; serial: string }> {
  const key = createPrivateKey(o.privateKeyPem);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  let alg: { name: string; namedCurve?: string; hash: string; publicExponent?: Uint8Array; modulusLength?: number };
  if (key.asymmetricKeyType === 'ec') {
    const named = key.asymmetricKeyDetails?.namedCurve;
    const curve = Object.values(CURVES).find((c) => c.openssl === named || c.node === named);
    if (!curve) throw new Error(`the key's curve ${named} is not supported`);
    alg = { name: 'ECDSA', namedCurve: curve.web, hash: curve.hash };
  } else if (key.asymmetricKeyType === 'rsa') {
    alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  } else {
    throw new Error(`a ${key.asymmetricKeyType} key is not supported for certificates`);
  }
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', pkcs8, alg as never, false, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, alg as never, true, ['verify']);
  const uses = o.allowedUses ?? [];
  const keyUsage = uses.reduce((flags, u) => flags | (KEY_USAGES[u] ?? 0), 0);
  const extended = uses.filter((u) => u in EXTENDED_USAGES).map((u) => EXTENDED_USAGES[u]);
  const unknown = uses.filter((u) => !(u in KEY_USAGES) && !(u in EXTENDED_USAGES));
  if (unknown.length > 0) throw new Error(`allowed_uses ${unknown.join(', ')} not supported by the local applier`);
  const now = o.now ?? new Date();
  const notAfter = new Date(now.getTime() + o.validityPeriodHours * 3600_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive serial number
  const names = [...(o.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...(o.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  const subject = [o.commonName && `CN=${o.commonName}`, o.organization && `O=${o.organization}`].filter(Boolean).join(', ');
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject,
    issuer: subject,
    notBefore: now,
    notAfter,
    signingAlgorithm: alg as never,
    publicKey: publicKey as never,
    signingKey: privateKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(Boolean(o.isCaCertificate), undefined, true),
      ...(keyUsage ? [new x509.KeyUsagesExtension(keyUsage, true)] : []),
      ...(extended.length ? [new x509.ExtendedKeyUsageExtension(extended)] : []),
      // With no subject the names are all there is: critical (RFC 5280 4.2.1.6), as Go's x509 makes it.
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, subject === '')] : []),
      await x509.SubjectKeyIdentifierExtension.create(publicKey as never),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', notBefore: now, notAfter, serial: BigInt(`0x${serial.toString('hex')}`).toString() };
}

export const tlsPrivateKey: ResourceHandler = {
  attributes: { algorithm: true, ecdsa_curve: true, rsa_bits: true },
  describe: (c) => `${String(c.algorithm)} key`,
  async create(_ctx, _address, c) {
    return { ...generatePrivateKey(String(c.algorithm), { ecdsaCurve: c.ecdsa_curve as string | undefined, rsaBits: c.rsa_bits as number | undefined }) };
  },
  // Lives only in state: there is nothing on the engine to lose.
  exists: async () => true,
  destroy: async () => undefined,
};

export const tlsSelfSignedCert: ResourceHandler = {
  attributes: {
    private_key_pem: true,
    subject: { common_name: true, organization: true },
    dns_names: true,
    ip_addresses: true,
    validity_period_hours: true,
    early_renewal_hours: true,
    allowed_uses: true,
    is_ca_certificate: true,
    set_subject_key_id: true,
  },
  describe: (c) => `certificate for ${((c.subject as { common_name?: string }[] | undefined)?.[0]?.common_name) ?? 'no name'}`,
  async create(_ctx, _address, c) {
    const subject = ((c.subject as { common_name?: string; organization?: string }[] | undefined) ?? [])[0] ?? {};
    const cert = await selfSignedCertificate({
      privateKeyPem: String(c.private_key_pem),
      commonName: subject.common_name,
      organization: subject.organization,
      dnsNames: c.dns_names as string[] | undefined,
      ipAddresses: c.ip_addresses as string[] | undefined,
      validityPeriodHours: Number(c.validity_period_hours),
      allowedUses: c.allowed_uses as string[] | undefined,
      isCaCertificate: Boolean(c.is_ca_certificate),
    });
    const renewAt = cert.notAfter.getTime() - Number(c.early_renewal_hours ?? 0) * 3600_000;
    return {
      id: cert.serial,
      cert_pem: cert.certPem,
      validity_start_time: cert.notBefore.toISOString(),
      validity_end_time: cert.notAfter.toISOString(),
      renew_at: new Date(renewAt).toISOString(),
    };
  },
  // As the provider: due for renewal (early_renewal_hours before the end) means replaced on the next apply.
  exists: async (_ctx, entry) => Date.now() < Date.parse(String(entry.outputs.renew_at)),
  destroy: async () => undefined,
};
