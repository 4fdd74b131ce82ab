/**
 * Checks that span entries: duplicates, addresses outside the mail domains,
 * aliases that point nowhere. Used by the config loader and by the MailServer
 * construct's validation, so a stack built in code gets the same errors.
 */
import { checkAddress, domainOf } from './rules';

export interface MailDirectory {
  readonly domains: readonly string[];
  readonly mailboxes: readonly { readonly address: string }[];
  readonly aliases: Readonly<Record<string, readonly string[]>>;
}

/** Key path of an alias entry (its key lowercased, as stored). */
export const aliasPath = (alias: string) => `aliases[${JSON.stringify(alias)}]`;

/**
 * The alias entry postfix's virtual alias lookup takes for a local address
 * that is not a mailbox: its own, else its domain's catch-all (`@domain`).
 */
export function aliasEntryFor(aliases: Readonly<Record<string, readonly string[]>>, address: string): string | undefined {
  if (address in aliases) return address;
  const catchAll = `@${domainOf(address)}`;
  return catchAll in aliases ? catchAll : undefined;
}

/** Returns one message per problem, each starting with its key path. */
export function checkMailDirectory(dir: MailDirectory): string[] {
  const problems: string[] = [];
  const domains = new Map<string, number>();
  dir.domains.forEach((domain, i) => {
    if (domains.has(domain)) problems.push(`domains[${i}]: "${domain}" is listed twice (first at domains[${domains.get(domain)}])`);
    else domains.set(domain, i);
  });

  const mailboxes = new Map<string, number>();
  dir.mailboxes.forEach(({ address }, i) => {
    const path = `mailboxes[${i}].address`;
    if (checkAddress(address)) return; // reported by the value rules
    if (mailboxes.has(address)) {
      problems.push(`${path}: "${address}" is already mailboxes[${mailboxes.get(address)}]`);
      return;
    }
    mailboxes.set(address, i);
    if (!domains.has(domainOf(address))) problems.push(`${path}: "${address}" is not in any of the mail domains (${dir.domains.join(', ')})`);
  });

  const catchAllDomains = new Set<string>();
  for (const [alias, targets] of Object.entries(dir.aliases)) {
    const path = aliasPath(alias);
    const domain = alias.startsWith('@') ? alias.slice(1) : domainOf(alias);
    if (alias.startsWith('@')) catchAllDomains.add(domain);
    if (!domains.has(domain)) problems.push(`${path}: "${alias}" is not in any of the mail domains (${dir.domains.join(', ')})`);
    if (mailboxes.has(alias)) problems.push(`${path}: "${alias}" is also a mailbox (mailboxes[${mailboxes.get(alias)}]); an address is one or the other`);
    const seen = new Set<string>();
    targets.forEach((target, j) => {
      if (seen.has(target)) problems.push(`${path}[${j}]: "${target}" is listed twice`);
      seen.add(target);
    });
  }

  // An alias must reach at least one mailbox or outside address; a local target
  // that is neither a mailbox nor an alias is a typo, and a loop delivers nowhere.
  // A catch-all is one more hop: postfix sends an unknown local address there.
  const isLocal = (address: string) => domains.has(domainOf(address));
  const nextHop = (address: string) => aliasEntryFor(dir.aliases, address);
  const resolves = (entry: string, trail: ReadonlySet<string>): boolean => {
    if (trail.has(entry)) return false;
    const seen = new Set([...trail, entry]);
    return dir.aliases[entry].some((t) => {
      if (checkAddress(t) || !isLocal(t) || mailboxes.has(t)) return true;
      const hop = nextHop(t);
      return hop !== undefined && resolves(hop, seen);
    });
  };
  for (const [alias, targets] of Object.entries(dir.aliases)) {
    const path = aliasPath(alias);
    // A catch-all's own targets cannot lean on the catch-all.
    const own = alias.startsWith('@') ? alias : undefined;
    const dangling = targets.filter((t) => !checkAddress(t) && isLocal(t) && !mailboxes.has(t) && (nextHop(t) === undefined || nextHop(t) === own));
    for (const target of dangling) {
      const j = targets.indexOf(target);
      problems.push(`${path}${targets.length > 1 ? `[${j}]` : ''}: points to "${target}", which is neither a mailbox nor an alias here`);
    }
    if (dangling.length === 0 && !resolves(alias, new Set())) problems.push(`${path}: forms a loop of aliases that reaches no mailbox`);
  }

  // RFC 5321 4.5.1: every mail domain must accept mail for postmaster.
  for (const domain of dir.domains) {
    const postmaster = `postmaster@${domain}`;
    if (!mailboxes.has(postmaster) && !dir.aliases[postmaster] && !catchAllDomains.has(domain)) {
      problems.push(`aliases: domain "${domain}" has no postmaster@${domain} (RFC 5321 requires one); add e.g. "${postmaster}: <a mailbox>"`);
    }
  }
  return problems;
}
