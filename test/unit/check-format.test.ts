/** `mailstack check`'s pure parts: the table, where it connects, how it judges a TLS session. */
import type { TLSSocket } from 'node:tls';
import { CheckResult, connectHost, describeTls, formatChecks } from '../../cli/check-command';

describe('formatChecks', () => {
  const results: CheckResult[] = [
    { name: 'smtp', status: 'PASS', detail: '127.0.0.1:25: 220 mail.example.test ESMTP' },
    { name: 'relay refused', status: 'FAIL', detail: 'expected a refusal\ngot 250 2.1.5 Ok' },
    { name: 'pop3', status: 'SKIP', detail: 'not published (no ports.pop3)' },
  ];

  it('aligns the columns to the longest name, keeps a detail\'s later lines in its column, and counts', () => {
    expect(formatChecks(results)).toBe(
      [
        'CHECK          RESULT  DETAIL',
        'smtp           PASS    127.0.0.1:25: 220 mail.example.test ESMTP',
        'relay refused  FAIL    expected a refusal',
        '                       got 250 2.1.5 Ok',
        'pop3           SKIP    not published (no ports.pop3)',
        '',
        '1 passed, 1 failed, 1 skipped',
        '',
      ].join('\n'),
    );
  });

  it('prints just the header and the count when there is nothing', () => {
    expect(formatChecks([])).toBe('CHECK  RESULT  DETAIL\n\n0 passed, 0 failed, 0 skipped\n');
  });
});

describe('connectHost', () => {
  const config = (bindAddress: string, host = 'unix:///var/run/docker.sock') => ({ docker: { bindAddress, host } });

  it('uses a specific bind address as it is', () => {
    expect(connectHost(config('127.0.0.1'))).toBe('127.0.0.1');
    expect(connectHost(config('192.0.2.25', 'ssh://deploy@mail.example.com'))).toBe('192.0.2.25');
  });

  it('reads a wildcard as loopback on a local engine', () => {
    expect(connectHost(config('0.0.0.0'))).toBe('127.0.0.1');
    expect(connectHost(config('::'))).toBe('127.0.0.1');
  });

  it("reads a wildcard as the remote engine's host", () => {
    expect(connectHost(config('0.0.0.0', 'ssh://deploy@mail.example.com'))).toBe('mail.example.com');
    expect(connectHost(config('0.0.0.0', 'tcp://mail.example.com:2376'))).toBe('mail.example.com');
    expect(connectHost(config('::', 'tcp://[2001:db8::25]:2376'))).toBe('2001:db8::25');
  });
});

describe('describeTls', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const session = (protocol: string, cert: object, authorized = false, authorizationError = 'DEPTH_ZERO_SELF_SIGNED_CERT') =>
    ({ getProtocol: () => protocol, getPeerCertificate: () => cert, authorized, authorizationError }) as unknown as TLSSocket;
  const cert = { subject: { CN: 'mail.example.test' }, valid_from: 'Jan  1 00:00:00 2025 GMT', valid_to: 'Jan  1 00:00:00 2027 GMT' };

  it('names the protocol, the subject, whether it is trusted or self-signed, and the expiry', () => {
    expect(describeTls(session('TLSv1.3', cert), now)).toBe('TLSv1.3, certificate CN=mail.example.test (self-signed), valid until 2027-01-01');
    expect(describeTls(session('TLSv1.2', cert, true, ''), now)).toBe('TLSv1.2, certificate CN=mail.example.test (trusted), valid until 2027-01-01');
    expect(describeTls(session('TLSv1.3', cert, false, 'ERR_TLS_CERT_ALTNAME_INVALID'), now)).toMatch(/\(not trusted: ERR_TLS_CERT_ALTNAME_INVALID\)/);
  });

  it('names a certificate without a CN by its subjectAltName', () => {
    const sanOnly = { ...cert, subject: undefined, subjectaltname: 'DNS:mail.example.test' };
    expect(describeTls(session('TLSv1.3', sanOnly), now)).toBe('TLSv1.3, certificate DNS:mail.example.test (self-signed), valid until 2027-01-01');
  });

  it('fails below TLS 1.2, without a certificate, and outside its validity', () => {
    expect(() => describeTls(session('TLSv1.1', cert), now)).toThrow('expected TLS 1.2 or higher, negotiated TLSv1.1');
    expect(() => describeTls(session('TLSv1.3', {}), now)).toThrow('the server sent no certificate');
    expect(() => describeTls(session('TLSv1.3', cert), new Date('2027-06-01T00:00:00Z'))).toThrow(/expected a certificate valid now, got one that expired/);
    expect(() => describeTls(session('TLSv1.3', cert), new Date('2024-06-01T00:00:00Z'))).toThrow(/not valid before 2025-01-01/);
  });
});
