/**
 * What a user types into a mail client, per published service, and the same
 * as a Thunderbird autoconfig document (config-v1.1.xml, served at
 * https://autoconfig.<domain>/mail/config-v1.1.xml).
 */
import type { MailService } from '../config/model';

export interface ClientSetting {
  readonly service: 'submission' | 'submissions' | 'imap' | 'imaps' | 'pop3' | 'pop3s';
  readonly direction: 'outgoing' | 'incoming';
  readonly host: string;
  readonly port: number;
  /** STARTTLS: TLS after connecting, required before login. TLS: TLS from the first byte. */
  readonly security: 'STARTTLS' | 'TLS';
  readonly authentication: readonly ['PLAIN', 'LOGIN'];
  readonly username: 'the full email address';
}

/** Client services in the order clients should prefer them. */
const CLIENT_SERVICES: readonly [ClientSetting['service'], ClientSetting['direction'], ClientSetting['security']][] = [
  ['imaps', 'incoming', 'TLS'],
  ['imap', 'incoming', 'STARTTLS'],
  ['pop3s', 'incoming', 'TLS'],
  ['pop3', 'incoming', 'STARTTLS'],
  ['submissions', 'outgoing', 'TLS'],
  ['submission', 'outgoing', 'STARTTLS'],
];

export function renderClientSettings(hostname: string, ports: Readonly<Partial<Record<MailService, number>>>): ClientSetting[] {
  return CLIENT_SERVICES.filter(([service]) => ports[service] !== undefined).map(([service, direction, security]) => ({
    service,
    direction,
    host: hostname,
    port: ports[service]!,
    security,
    authentication: ['PLAIN', 'LOGIN'] as const,
    username: 'the full email address' as const,
  }));
}

export function renderAutoconfig(hostname: string, domains: readonly string[], ports: Readonly<Partial<Record<MailService, number>>>): string {
  const settings = renderClientSettings(hostname, ports);
  const server = (s: ClientSetting) => {
    const type = s.service.startsWith('imap') ? 'imap' : s.service.startsWith('pop3') ? 'pop3' : 'smtp';
    const tag = s.direction === 'incoming' ? 'incomingServer' : 'outgoingServer';
    // password-cleartext means PLAIN/LOGIN, which the server offers only inside TLS.
    return `    <${tag} type="${type}">
      <hostname>${hostname}</hostname>
      <port>${s.port}</port>
      <socketType>${s.security === 'TLS' ? 'SSL' : 'STARTTLS'}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${tag}>`;
  };
  const [first] = domains;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${first}">
${domains.map((d) => `    <domain>${d}</domain>`).join('\n')}
    <displayName>Mail at ${hostname}</displayName>
    <displayShortName>${first}</displayShortName>
${settings.map(server).join('\n')}
  </emailProvider>
</clientConfig>
`;
}
