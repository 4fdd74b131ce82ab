/** A throwaway certificate for tests, made by the same code the applier uses for tls_self_signed_cert. */
import { generatePrivateKey, selfSignedCertificate as applierSelfSigned } from '../../applier/resources/tls';

export interface TestCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function selfSignedCertificate(hostname: string): Promise<TestCertificate> {
  const key = generatePrivateKey('ECDSA', { ecdsaCurve: 'P256' });
  const cert = await applierSelfSigned({
    privateKeyPem: key.private_key_pem,
    commonName: hostname,
    dnsNames: [hostname],
    validityPeriodHours: 24,
    allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
  });
  return { certificatePem: cert.certPem, privateKeyPem: key.private_key_pem };
}
