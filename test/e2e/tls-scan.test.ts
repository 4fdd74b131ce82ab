/**
 * testssl.sh (Debian's package) against every listener, STARTTLS ones with
 * --starttls: no HIGH or CRITICAL finding anywhere, no protocol below TLS 1.2.
 * The stack gets a certificate from a test CA that testssl is told to trust,
 * so the scan judges the TLS setup, not a self-signed certificate. The
 * findings go to test-results/testssl/<service>.json and a summary is printed.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCa } from '../support/ca';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(20 * 60_000);

const HOSTNAME = 'mail.example.test';
const RESULTS = join(__dirname, '..', '..', 'test-results', 'testssl');

/** Each listener and how testssl reaches it. */
const LISTENERS = [
  ['smtp', 'smtp'],
  ['submission', 'smtp'],
  ['submissions', undefined],
  ['imap', 'imap'],
  ['imaps', undefined],
  ['pop3', 'pop3'],
  ['pop3s', undefined],
] as const;

interface Finding {
  readonly id: string;
  readonly severity: 'OK' | 'INFO' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL' | 'WARN' | 'DEBUG';
  readonly finding: string;
}

let stack: TestStack;
let caFile: string;
const findings: Record<string, Finding[]> = {};

beforeAll(async () => {
  const ca = await createCa('mailstack test CA');
  // Like a public CA's: 90 days, with a CRL (testssl rates a short-lived one, or one with no revocation, HIGH).
  const server = await ca.issue(HOSTNAME, { server: { ipAddresses: ['127.0.0.1'], dnsNames: [HOSTNAME] } }, { validDays: 90, crlUrl: 'http://ca.example.test/ca.crl' });
  stack = await exampleStack('tls', (doc) => {
    doc.tls = { certFile: 'fullchain.pem', keyFile: 'privkey.pem' };
    // testssl opens hundreds of connections from one address: anvil would turn most away.
    doc.limits = { clientConnectionsPerMinute: 0, clientConcurrentConnections: 0, clientMessagesPerMinute: 0 };
  });
  const dir = join(stack.configPath, '..');
  writeFileSync(join(dir, 'fullchain.pem'), server.certPem);
  writeFileSync(join(dir, 'privkey.pem'), server.keyPem, { mode: 0o600 });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  await stack.up();

  // The scans are mostly waiting on handshakes: run them side by side.
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  await Promise.all(
    LISTENERS.map(async ([service, starttls]) => {
      const jsonFile = join(RESULTS, `${service}.json`);
      const args = ['--quiet', '--color', '0', '--warnings', 'off', '--connect-timeout', '10', '--openssl-timeout', '10', '--add-ca', caFile, '--ip', '127.0.0.1', '--jsonfile', jsonFile];
      if (starttls) args.push('--starttls', starttls);
      args.push(`${HOSTNAME}:${stack.ports[service]}`);
      // testssl exits non-zero for findings too; the JSON file is what counts.
      await promisify(execFile)('testssl', args, { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 }).catch((err) => {
        if (!readFileSync(jsonFile, 'utf8').includes('"severity"')) throw err;
      });
      findings[service] = JSON.parse(readFileSync(jsonFile, 'utf8')) as Finding[];
    }),
  );
  const summary = LISTENERS.map(([service]) => {
    const counts: Record<string, number> = {};
    for (const f of findings[service]) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    return `${service.padEnd(12)} ${['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO', 'OK'].map((s) => `${s} ${counts[s] ?? 0}`).join(', ')}`;
  });
  writeFileSync(join(RESULTS, 'summary.txt'), `${summary.join('\n')}\n`);
  console.log(`testssl findings (full results in ${RESULTS}):\n${summary.join('\n')}`);
});

afterAll(async () => {
  await stack?.down(true);
});

describe.each(LISTENERS.map(([service]) => service))('testssl against %s', (service) => {
  it('finds nothing HIGH or CRITICAL', () => {
    const bad = findings[service].filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL').map((f) => `${f.id}: ${f.finding}`);
    expect(bad).toEqual([]);
  });

  it('sees only TLS 1.2 and 1.3 offered, and the certificate trusted', () => {
    const byId = (id: string) => findings[service].find((f) => f.id === id)?.finding ?? '(not reported)';
    for (const old of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) expect([old, byId(old)]).toEqual([old, expect.stringMatching(/^not offered/)]);
    expect(byId('TLS1_2')).toMatch(/^offered/);
    expect(byId('TLS1_3')).toMatch(/^offered/);
    expect(byId('cert_chain_of_trust')).toMatch(/^passed/);
  });
});
