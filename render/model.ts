/** What the renderers need to know about the mail system: plain data, no tokens. */
import type { Mailbox, Smarthost } from '../config/model';

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
  /** Address-extension delimiter ('' for none). */
  readonly recipientDelimiter: string;
  /** More SMTP listeners like port 25 (container port = host port). */
  readonly extraSmtpPorts: readonly number[];
  /** Mail passes through the OpenDKIM milter. */
  readonly dkimSigning: boolean;
  /** All non-local mail goes through this relay. */
  readonly smarthost?: Smarthost;
}

/** Sorted copy, for output that does not depend on the order of the input. */
export const sorted = <T>(items: Iterable<T>, key: (item: T) => string = String): T[] =>
  [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
