/** The applier's stand-in for hashicorp/tls: certificates as Go's x509 makes them. */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { selfSignedCertificate } from '../../applier/resources/tls';

const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// Node's X509Certificate does not say which extensions are critical: find the SAN's DER. 2.5.29.17, then BOOLEAN TRUE.
const sanIsCritical = (pem: string) => new X509Certificate(pem).raw.includes(Buffer.from('0603551d110101ff', 'hex'));

it('names the host in the CN and a non-critical subjectAltName', async () => {
  const { certPem } = await selfSignedCertificate({ privateKeyPem: keyPem, commonName: 'mail.example.test', dnsNames: ['mail.example.test'], validityPeriodHours: 1 });
  const cert = new X509Certificate(certPem);
  expect(cert.subject).toBe('CN=mail.example.test');
  expect(cert.checkHost('mail.example.test')).toBe('mail.example.test');
  expect(sanIsCritical(certPem)).toBe(false);
});

it('without a subject, makes the subjectAltName critical (RFC 5280 4.2.1.6) and the name still verifies', async () => {
  const long = `mail.${'a'.repeat(60)}.example.test`;
  const { certPem } = await selfSignedCertificate({ privateKeyPem: keyPem, dnsNames: [long], validityPeriodHours: 1 });
  const cert = new X509Certificate(certPem);
  expect(cert.subject ?? '').toBe('');
  expect(cert.subjectAltName).toBe(`DNS:${long}`);
  expect(cert.checkHost(long)).toBe(long);
  expect(sanIsCritical(certPem)).toBe(true);
});
