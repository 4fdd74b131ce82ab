/** A throwaway self-signed certificate for tests, made with node's WebCrypto and @peculiar/x509. */
import 'reflect-metadata'; // @peculiar/x509 needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export interface TestCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function selfSignedCertificate(hostname: string): Promise<TestCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${hostname}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys: keys as never,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: hostname }])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const privateKeyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certificatePem: cert.toString('pem'), privateKeyPem };
}
