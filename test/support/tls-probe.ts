/** TLS handshakes with a chosen protocol range, to see what a listener accepts. */
import { connect, createServer } from 'node:tls';
import { selfSignedCertificate } from './tls';

/** Old protocols need OpenSSL's security level 0 on the client side. */
const LEGACY_CLIENT = { ciphers: 'DEFAULT@SECLEVEL=0' };

/** Resolves to the negotiated protocol, or to `refused: <reason>`. */
export function handshake(port: number, minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3', maxVersion: typeof minVersion): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion, maxVersion, ...LEGACY_CLIENT });
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.destroy();
    });
    socket.once('error', (err) => resolve(`refused: ${err.message}`));
  });
}

/**
 * Proves this client can speak a protocol at all: a server on loopback that
 * accepts it must negotiate it. Without this, a refusal could be our own.
 */
export async function clientCanSpeak(version: 'TLSv1' | 'TLSv1.1'): Promise<boolean> {
  const cert = await selfSignedCertificate('localhost');
  const server = createServer({ key: cert.privateKeyPem, cert: cert.certificatePem, minVersion: version, maxVersion: version, ...LEGACY_CLIENT });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  server.on('secureConnection', (s) => s.end());
  try {
    return (await handshake(port, version, version)) === version;
  } finally {
    server.close();
  }
}
