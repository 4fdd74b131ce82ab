/**
 * Value rules shared by the config loader (which reports the key path) and
 * the constructs (which validate their props): one definition of what a
 * hostname, an address or a network is, strict enough that no value can
 * carry configuration syntax into main.cf, master.cf, dovecot.conf, the
 * passwd-file or a Terraform expression.
 *
 * Each check returns undefined when the value is fine, or a lowercase reason.
 */
import { isIP } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/** Internet host or domain name: LDH labels, at least two, lowercase. */
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Local part of a mailbox or alias address. Deliberately narrower than RFC 5321:
 * no quoting, no '%', '!', '@', '/', ':' or '+' (the relay tricks, Maildir paths,
 * passwd-file separators and the address-extension delimiter all live there).
 */
const LOCAL_PART = /^[a-z0-9_](?:[a-z0-9_-]|\.(?!\.))*(?<!\.)$/;

/** Password hash schemes dovecot verifies that are slow, salted hashes. */
export const ACCEPTED_HASH_SCHEMES = ['SHA512-CRYPT', 'SHA256-CRYPT', 'BLF-CRYPT', 'ARGON2I', 'ARGON2ID'] as const;

/** The crypt(3)/argon2 alphabet: no ':', no whitespace, nothing dovecot expands. */
const HASH_BODY = /^\$[A-Za-z0-9./$=,+-]+$/;

export function checkDomainName(value: string): string | undefined {
  if (value.length > 253) return 'is longer than 253 characters';
  const labels = value.split('.');
  if (labels.length < 2) return 'is not a fully qualified domain name (it needs at least one dot)';
  if (!labels.every((l) => DOMAIN_LABEL.test(l))) {
    return 'is not a valid domain name (letters, digits and hyphens in dot-separated labels, lowercase)';
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return 'is not a domain name (its last label is numeric)';
  return undefined;
}

/** Splits a mailbox address; the domain part is checked with checkDomainName. */
export function checkAddress(value: string): string | undefined {
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return 'is not an email address';
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64) return 'is not an email address (the local part is longer than 64 characters)';
  if (!LOCAL_PART.test(local)) {
    return 'is not an email address mailstack accepts (local part: lowercase letters, digits, ".", "_", "-")';
  }
  if (checkDomainName(domain)) return 'is not an email address (its domain is not valid)';
  return undefined;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export function checkPasswordHash(value: string): string | undefined {
  const m = /^\{([A-Z0-9-]+)\}(.*)$/s.exec(value);
  if (!m) return 'is not a dovecot password hash (expected "{SHA512-CRYPT}$6$..." as `doveadm pw -s SHA512-CRYPT` prints)';
  const scheme = m[1];
  if (!(ACCEPTED_HASH_SCHEMES as readonly string[]).includes(scheme)) {
    return `uses scheme {${scheme}}, which is not accepted (use one of ${ACCEPTED_HASH_SCHEMES.map((s) => `{${s}}`).join(', ')})`;
  }
  if (!HASH_BODY.test(m[2])) return `is not a valid {${scheme}} hash`;
  return undefined;
}

export function checkEnvName(value: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(value) ? undefined : 'is not an environment variable name';
}

/**
 * A network in CIDR form as postfix's mynetworks takes it. Host bits must be
 * zero (postfix warns otherwise), and a /0 would make an open relay.
 */
export function checkNetwork(value: string): string | undefined {
  const m = /^([0-9a-fA-F.:]+)\/([0-9]{1,3})$/.exec(value);
  if (!m || isIP(m[1]) === 0) return 'is not a network in CIDR notation (e.g. 10.1.15.0/24)';
  const prefix = Number(m[2]);
  const v4 = isIP(m[1]) === 4;
  if (prefix > (v4 ? 32 : 128)) return `has a prefix length over ${v4 ? 32 : 128}`;
  if (prefix === 0) return 'would let the whole Internet relay through this server (an open relay)';
  const network = v4 ? ipaddr.IPv4.networkAddressFromCIDR(value) : ipaddr.IPv6.networkAddressFromCIDR(value);
  if (network.toString() !== ipaddr.parse(m[1]).toString()) {
    return `has host bits set (write the network address, ${network.toString()}/${prefix})`;
  }
  return undefined;
}

/** Renders a network the way mynetworks wants it: IPv6 in brackets. */
export function mynetworksEntry(network: string): string {
  const [addr, prefix] = network.split('/');
  return isIP(addr) === 6 ? `[${addr.toLowerCase()}]/${prefix}` : network;
}

/** An IP address without a zone index: node's isIP takes "fe80::1%eth0", which names an interface of this machine only. */
const isAddress = (value: string) => isIP(value) !== 0 && !value.includes('%');

export function checkIpAddress(value: string): string | undefined {
  return isAddress(value) ? undefined : 'is not an IPv4 or IPv6 address';
}

export function checkPort(value: number): string | undefined {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? undefined : 'is not a TCP port (1-65535)';
}

/** A docker.host URL taken apart (see checkDockerHost for the forms accepted). */
export interface DockerHostUrl {
  readonly scheme: 'unix' | 'npipe' | 'tcp' | 'ssh';
  /** tcp and ssh: host name or IP address (IPv6 without brackets). */
  readonly host?: string;
  /** Required with tcp, optional with ssh. */
  readonly port?: number;
  /** ssh: the login name, when given (else ssh's own default). */
  readonly user?: string;
}

const NOT_DOCKER_HOST = 'is not a Docker host URL';

function dockerHostUrl(value: string): DockerHostUrl | string {
  if (value.startsWith('unix://')) {
    return /^unix:\/\/\/[^\s"\\{}]+$/.test(value) ? { scheme: 'unix' } : `${NOT_DOCKER_HOST} (unix:// takes an absolute socket path: unix:///var/run/docker.sock)`;
  }
  if (value.startsWith('npipe://')) return /^npipe:\/\/[^\s"\\{}]+$/.test(value) ? { scheme: 'npipe' } : NOT_DOCKER_HOST;
  if (/^https?:\/\//.test(value)) return `${NOT_DOCKER_HOST} mailstack accepts: write tcp://host:port (with docker.tls for TLS)`;
  const m = /^(tcp|ssh):\/\/(?:([^@/]*)@)?(\[[^\]/]*\]|[^:/[\]]*)(?::([^/]*))?(\/.*)?$/.exec(value);
  if (!m) return `${NOT_DOCKER_HOST} (unix:///path, tcp://host:port, ssh://[user@]host[:port])`;
  const [, scheme, user, rawHost, rawPort, path] = m;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (host === '') return `${NOT_DOCKER_HOST} (it names no host; IPv6 addresses go in brackets: tcp://[::1]:2375)`;
  if (rawHost.startsWith('[') ? isIP(host) !== 6 : checkHost(host)) return `${NOT_DOCKER_HOST} (${JSON.stringify(rawHost)} is not a host name or IP address)`;
  if (path !== undefined) return `${NOT_DOCKER_HOST} (a ${scheme}:// URL takes no path)`;
  if (rawPort === undefined && scheme === 'tcp') return `${NOT_DOCKER_HOST} (tcp:// needs a port: tcp://host:2376)`;
  const port = rawPort === undefined ? undefined : /^[0-9]{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
  if (port !== undefined && checkPort(port)) return `${NOT_DOCKER_HOST} (port ${JSON.stringify(rawPort)} is not a TCP port, 1-65535)`;
  if (scheme === 'tcp' && user !== undefined) return `${NOT_DOCKER_HOST} (tcp:// takes no user name; ssh://user@host does)`;
  // Passed to ssh as `-l user`: a login name, nothing ssh could take for an option.
  if (user !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(user)) return `${NOT_DOCKER_HOST} (${JSON.stringify(user)} is not a login name)`;
  return { scheme: scheme as 'tcp' | 'ssh', host, ...(port !== undefined ? { port } : {}), ...(user !== undefined ? { user } : {}) };
}

/** unix:///path, npipe://path, tcp://host:port or ssh://[user@]host[:port]; each fault named. */
export function checkDockerHost(value: string): string | undefined {
  const url = dockerHostUrl(value);
  return typeof url === 'string' ? url : undefined;
}

/** The parts of a docker.host that checkDockerHost accepts; undefined for any other. */
export function parseDockerHost(value: string): DockerHostUrl | undefined {
  const url = dockerHostUrl(value);
  return typeof url === 'string' ? undefined : url;
}

/** localhost, 127.0.0.0/8 or ::1: only this machine can connect. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return isIP(host) !== 0 && ipaddr.process(host).range() === 'loopback';
}

/** An extra flag for the ssh client (docker.sshOptions): it ends up in a Terraform string, so no interpolation. */
export function checkSshOption(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || /[\x00-\x1f\x7f]/.test(value) || /[$%]\{/.test(value)) return 'is not a usable ssh option (not empty; no control characters or "${")';
  return undefined;
}

export function checkNamePrefix(value: string): string | undefined {
  // It is also the stack's construct id, which the constructs library keeps in a plain object.
  if (value === 'constructor') return 'is reserved (it names the stack, and the constructs library takes "constructor" for a property of every object)';
  return /^[a-z0-9][a-z0-9_.-]{0,39}$/.test(value)
    ? undefined
    : 'is not a name prefix (lowercase letters, digits, "_", ".", "-"; at most 40 characters; starts with a letter or digit)';
}

/**
 * A file path that ends up inside a Terraform expression (file("...")): refuse
 * anything that could close the string or open an interpolation.
 */
export function checkFilePath(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || /["\\\x00-\x1f\x7f]/.test(value) || /[$%]\{/.test(value)) {
    return 'is not a usable file path (no quotes, backslashes, control characters or "${")';
  }
  return undefined;
}

/** A DNS label such as a DKIM selector. */
export function checkLabel(value: string): string | undefined {
  return DOMAIN_LABEL.test(value) ? undefined : 'is not a DNS label (lowercase letters, digits and inner hyphens, at most 63)';
}

/** A host to connect to: an IP address or a host name (one label is fine: a container on the same network). */
export function checkHost(value: string): string | undefined {
  if (isAddress(value)) return undefined;
  return value.length <= 253 && value.split('.').every((l) => DOMAIN_LABEL.test(l)) ? undefined : 'is not a host name or IP address';
}

/** A report address (DMARC rua, TLS-RPT): anything mail can reach, but nothing that breaks a TXT record. */
export function checkReportAddress(value: string): string | undefined {
  return /^[A-Za-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/.test(value) ? undefined : 'is not an email address usable in a report URI';
}

/** A TXT value we publish as given (an SPF record): printable ASCII, no quotes or backslashes. */
export function checkTxtValue(value: string): string | undefined {
  if (!/^[\x20-\x7e]+$/.test(value) || /["\\]/.test(value)) return 'is not a TXT value (printable ASCII, no quotes or backslashes)';
  if (value.length > 450) return 'is longer than 450 characters';
  return undefined;
}

/** A SASL user name for the smarthost: no whitespace or ':' (the password map's separator). */
export function checkSaslUsername(value: string): string | undefined {
  return /^[A-Za-z0-9._@+=-]{1,128}$/.test(value) ? undefined : 'is not a usable SASL user name (letters, digits, . _ @ + = -)';
}

/** A TSIG key name (a domain name, trailing dot optional). */
export function checkKeyName(value: string): string | undefined {
  const name = value.replace(/\.$/, '');
  return name.split('.').every((l) => DOMAIN_LABEL.test(l)) ? undefined : 'is not a TSIG key name';
}

/** Each zone list as a set, made once: zoneOf runs for every record of every domain (quadratic as a scan). */
const zoneSets = new WeakMap<readonly string[], { readonly length: number; readonly set: ReadonlySet<string> }>();

/** The zone a name belongs to: the longest one containing it. */
export function zoneOf(name: string, zones: readonly string[]): string | undefined {
  let cached = zoneSets.get(zones);
  if (cached?.length !== zones.length) zoneSets.set(zones, (cached = { length: zones.length, set: new Set(zones) }));
  // The name itself, then each parent: the first zone found is the longest.
  for (let n = name; ; n = n.slice(n.indexOf('.') + 1)) {
    if (cached.set.has(n)) return n;
    if (!n.includes('.')) return undefined;
  }
}
