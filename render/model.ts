/** What the renderers need to know about the mail system: plain data, no tokens. */
import type { ClientLimits, Mailbox, ReadingService, Smarthost } from '../config/model';

/** Where postfix listens when it runs in the host's network stack. */
export interface HostListeners {
  /** Host address; 0.0.0.0 for all. */
  readonly bindAddress: string;
  readonly smtp?: number;
  readonly submission?: number;
  readonly submissions?: number;
}

export interface MailSystemModel {
  /** FQDN of the mail host. */
  readonly hostname: string;
  readonly domains: readonly string[];
  readonly mailboxes: readonly Mailbox[];
  /** Alias (address or `@domain`) to its targets. */
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  /** Networks (CIDR) that may relay without authentication. */
  readonly relayNetworks: readonly string[];
  readonly messageSizeBytes: number;
  /** Per SMTP client address (postfix anvil); 0 is unlimited. */
  readonly clientLimits: ClientLimits;
  /** Address-extension delimiter ('' for none). */
  readonly recipientDelimiter: string;
  /** More SMTP listeners like port 25 (container port = host port). */
  readonly extraSmtpPorts: readonly number[];
  /** Mail passes through the OpenDKIM milter. */
  readonly dkimSigning: boolean;
  /** All non-local mail goes through this relay. */
  readonly smarthost?: Smarthost;
  /** The mail-reading services dovecot runs. */
  readonly protocols: readonly ReadingService[];
  /** Clients over IPv6 too. */
  readonly ipv6: boolean;
  /** Set when postfix runs in the host's network stack and listens on host ports itself. */
  readonly hostListeners?: HostListeners;
}

/** Sorted copy, for output that does not depend on the order of the input. */
export const sorted = <T>(items: Iterable<T>, key: (item: T) => string = String): T[] =>
  [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
