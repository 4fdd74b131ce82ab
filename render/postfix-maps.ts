/**
 * Renders postfix's lookup tables, read as texthash: (no postmap step; the
 * files are uploaded and read when each process starts).
 */
import { aliasEntryFor } from '../config/consistency';
import { domainOf } from '../config/rules';
import { MailSystemModel, sorted } from './model';

const HEADER = '# Rendered by mailstack from mailstack.yaml. Changes here are overwritten.\n';

/** virtual_mailbox_domains: the domains delivered here. */
export function renderVirtualMailboxDomains(model: MailSystemModel): string {
  return HEADER + sorted(model.domains).map((d) => `${d} OK\n`).join('');
}

/**
 * virtual_mailbox_maps: the mailboxes. Postfix only asks whether an address
 * exists (unknown recipients are refused at RCPT); dovecot decides where it goes.
 */
export function renderVirtualMailboxMaps(model: MailSystemModel): string {
  return HEADER + sorted(model.mailboxes.map((m) => m.address)).map((a) => `${a} OK\n`).join('');
}

/**
 * virtual_alias_maps: aliases, and catch-alls. A catch-all (@domain) would also
 * swallow the domain's real mailboxes and aliases, so each of those is mapped
 * to itself first (postfix tries user@domain before @domain).
 */
export function renderVirtualAliasMaps(model: MailSystemModel): string {
  const lines = new Map<string, string>();
  for (const [alias, targets] of Object.entries(model.aliases)) lines.set(alias, sorted(targets).join(', '));
  const catchAll = new Set(Object.keys(model.aliases).filter((a) => a.startsWith('@')).map((a) => a.slice(1)));
  for (const { address } of model.mailboxes) {
    if (catchAll.has(domainOf(address)) && !lines.has(address)) lines.set(address, address);
  }
  return HEADER + sorted(lines.keys()).map((key) => `${key} ${lines.get(key)}\n`).join('');
}

/**
 * smtpd_sender_login_maps: which logins may use an address as envelope sender
 * (reject_authenticated_sender_login_mismatch). A mailbox owns itself; an alias
 * or catch-all belongs to every local mailbox it delivers to, through other
 * aliases too. An address not listed may not be used by anyone who logged in.
 */
export function renderSenderLoginMaps(model: MailSystemModel): string {
  const mailboxes = new Set(model.mailboxes.map((m) => m.address));
  const owners = (address: string, seen: Set<string>): string[] => {
    if (mailboxes.has(address)) return [address];
    const entry = aliasEntryFor(model.aliases, address);
    if (entry === undefined || seen.has(entry)) return [];
    seen.add(entry);
    return model.aliases[entry].flatMap((t) => owners(t, seen));
  };
  const lines = new Map<string, string[]>();
  for (const address of mailboxes) lines.set(address, [address]);
  for (const alias of Object.keys(model.aliases)) {
    const logins = [...new Set(owners(alias, new Set()))];
    if (logins.length > 0 && !mailboxes.has(alias)) lines.set(alias, sorted(logins));
  }
  return HEADER + sorted(lines.keys()).map((key) => `${key} ${lines.get(key)!.join(', ')}\n`).join('');
}
