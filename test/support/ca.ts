/** A throwaway certificate authority for tests: a CA, and server or client certificates it signs (ECDSA P-256). */
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestCa extends Issued {
  /** A certificate for `commonName`: server (with its IP addresses) or client. */
  issue(commonName: string, use: { server: { ipAddresses: string[]; dnsNames?: string[] } } | 'client', options?: IssueOptions): Promise<Issued>;
}

export interface IssueOptions {
  /** @default 1 */
  readonly validDays?: number;
  /** A CRL distribution point, as a public CA's certificates carry one. @default none */
  readonly crlUrl?: string;
}

export async function createCa(commonName: string): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const subject = `CN=${commonName}`;
  const caCert = await certificate({
    subject,
    issuer: subject,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  return {
    certPem: caCert,
    keyPem: await keyPem(keys.privateKey),
    async issue(name, use, options = {}) {
      const leaf = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
      const certPem = await certificate({
        subject: `CN=${name}`,
        issuer: subject,
        publicKey: leaf.publicKey,
        signingKey: keys.privateKey,
        validDays: options.validDays,
        extensions: [
          ...(options.crlUrl ? [new x509.CRLDistributionPointsExtension([options.crlUrl])] : []),
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([use === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
          ...(use === 'client'
            ? []
            : [
                new x509.SubjectAlternativeNameExtension([
                  ...(use.server.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
                  ...use.server.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
                ]),
              ]),
        ],
      });
      return { certPem, keyPem: await keyPem(leaf.privateKey) };
    },
  };
}

async function certificate(o: { subject: string; issuer: string; publicKey: CryptoKey; signingKey: CryptoKey; extensions: x509.Extension[]; validDays?: number }): Promise<string> {
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: o.subject,
    issuer: o.issuer,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + (o.validDays ?? 1) * 24 * 3600_000),
    signingAlgorithm: ALG as never,
    publicKey: o.publicKey as never,
    signingKey: o.signingKey as never,
    extensions: o.extensions,
  });
  return `${cert.toString('pem')}\n`;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}
