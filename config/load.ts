/**
 * Reads mailstack.yaml: js-yaml parses it, the published JSON Schema checks its
 * shape (types, unknown keys), then the value rules and the cross-entry checks
 * run. Every problem is reported with its key path; nothing is half-loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import * as yaml from 'js-yaml';
import schema from '../mailstack.schema.json';
import { checkMailDirectory } from './consistency';
import {
  ClientLimits,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_CLIENT_LIMITS,
  DEFAULT_DOCKER_HOST,
  DEFAULT_MAILBOX_SIZE_BYTES,
  DEFAULT_MESSAGE_SIZE_BYTES,
  DEFAULT_DKIM,
  DEFAULT_NAME_PREFIX,
  DEFAULT_RECIPIENT_DELIMITER,
  DEFAULT_SPF,
  DkimConfig,
  DnsConfig,
  DnsProviderName,
  MAIL_SERVICES,
  Mailbox,
  MailService,
  MailstackConfig,
  READING_SERVICES,
  ReadingService,
  Smarthost,
  DockerTls,
} from './model';

const isReadingService = (s: string): s is ReadingService => (READING_SERVICES as readonly string[]).includes(s);
import { hashPassword } from './password';
import * as rules from './rules';

/** A config file that cannot be used, with every problem found in it. */
export class ConfigError extends Error {
  constructor(
    public readonly file: string,
    public readonly problems: readonly string[],
  ) {
    super(`${file}: invalid mailstack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * A problem on one line: control characters of a value a message repeats
 * unquoted (a list of domains, say) are written as escapes, as JSON would.
 */
// eslint-disable-next-line no-control-regex
const oneLine = (problem: string) => problem.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\x7f' ? '\\u007f' : JSON.stringify(c).slice(1, -1)));

export interface LoadOptions {
  /** Name shown in error messages. @default '<config>' */
  readonly file?: string;
  /** Where relative paths (tls.certFile, tls.keyFile) start. @default process.cwd() */
  readonly baseDir?: string;
  /** Environment for `passwordEnv`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export function loadConfigFile(path: string, env: LoadOptions['env'] = process.env): MailstackConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseConfig(text, { file: path, baseDir: dirname(resolve(path)), env });
}

const validateShape = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

export function parseConfig(text: string, options: LoadOptions = {}): MailstackConfig {
  const file = options.file ?? '<config>';
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  if (!validateShape(doc)) throw new ConfigError(file, shapeProblems(validateShape.errors ?? []).map(oneLine));
  const problems: string[] = [];
  const config = normalize(doc as unknown as RawConfig, problems, options);
  problems.push(...checkMailDirectory(config));
  if (problems.length > 0) throw new ConfigError(file, problems.map(oneLine));
  return config;
}

/** The YAML as the schema admits it. */
interface RawConfig {
  hostname: string;
  domains: string[];
  mailboxes: { address: string; passwordHash?: string; passwordEnv?: string; quotaBytes?: number }[];
  aliases?: Record<string, string | string[]>;
  relay?: { networks?: string[]; smarthost?: { host: string; port?: number; tls?: Smarthost['tls']; username?: string } };
  limits?: { messageSizeBytes?: number; mailboxSizeBytes?: number } & Partial<ClientLimits>;
  protocols?: ReadingService[];
  ipv6?: boolean;
  ports?: Partial<Record<MailService, number>> & { extraSmtp?: number[] };
  recipientDelimiter?: string;
  tls?: { certFile?: string; keyFile?: string };
  docker?: { host?: string; bindAddress?: string; namePrefix?: string; hostNetwork?: boolean; tls?: DockerTls; sshOptions?: string[] };
  dkim?: Partial<DkimConfig>;
  dns?: RawDns;
}

interface RawDns {
  provider?: DnsProviderName;
  rfc2136?: { server: string; port?: number; keyName?: string; keyAlgorithm?: string };
  cloudflare?: { zoneIds: Record<string, string> };
  zones?: string[];
  ttl?: number;
  addresses?: string[];
  mx?: boolean;
  spf?: boolean | string;
  dkim?: boolean;
  dmarc?: boolean | { policy?: 'none' | 'quarantine' | 'reject'; rua?: string; adkim?: 'r' | 's'; aspf?: 'r' | 's'; percent?: number };
  mtaSts?: boolean | { mode?: 'testing' | 'enforce' | 'none'; maxAgeSeconds?: number };
  tlsRpt?: boolean | { rua?: string };
  srv?: boolean;
}

function normalize(raw: RawConfig, problems: string[], options: LoadOptions): MailstackConfig {
  const check = (path: string, value: string, rule: (v: string) => string | undefined) => {
    const reason = rule(value);
    if (reason) problems.push(`${path}: ${JSON.stringify(value)} ${reason}`);
    return value;
  };
  const lower = (s: string) => s.toLowerCase();

  const hostname = check('hostname', lower(raw.hostname), rules.checkDomainName);
  const domains = raw.domains.map((d, i) => check(`domains[${i}]`, lower(d), rules.checkDomainName));

  const env = options.env ?? process.env;
  const mailboxes: Mailbox[] = raw.mailboxes.map((m, i) => {
    const path = `mailboxes[${i}]`;
    const address = check(`${path}.address`, lower(m.address), rules.checkAddress);
    let passwordHash = '';
    if ((m.passwordHash === undefined) === (m.passwordEnv === undefined)) {
      problems.push(`${path}: give exactly one of passwordHash or passwordEnv`);
    } else if (m.passwordHash !== undefined) {
      passwordHash = check(`${path}.passwordHash`, m.passwordHash, rules.checkPasswordHash);
    } else {
      const name = check(`${path}.passwordEnv`, m.passwordEnv!, rules.checkEnvName);
      // Own variables only: "constructor" or "__proto__" would otherwise find Object.prototype's.
      const password = Object.hasOwn(env, name) ? env[name] : undefined;
      if (!rules.checkEnvName(name)) {
        if (password === undefined || password === '') problems.push(`${path}.passwordEnv: environment variable ${name} is not set`);
        else passwordHash = hashPassword(address, password);
      }
    }
    return { address, passwordHash, quotaBytes: m.quotaBytes ?? raw.limits?.mailboxSizeBytes ?? DEFAULT_MAILBOX_SIZE_BYTES };
  });

  const aliases: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(raw.aliases ?? {})) {
    const alias = lower(key);
    const path = `aliases[${JSON.stringify(key)}]`;
    if (alias.startsWith('@')) check(path, alias.slice(1), (d) => (rules.checkDomainName(d) ? 'is not a catch-all (@domain) or an email address' : undefined));
    else check(path, alias, rules.checkAddress);
    if (alias in aliases) problems.push(`${path}: "${alias}" is listed twice (alias keys are not case-sensitive)`);
    const targets = (Array.isArray(value) ? value : [value]).map((t, j) =>
      check(Array.isArray(value) ? `${path}[${j}]` : path, lower(t), rules.checkAddress),
    );
    aliases[alias] = targets;
  }

  const networks = (raw.relay?.networks ?? []).map((n, i) => check(`relay.networks[${i}]`, n, rules.checkNetwork));

  const protocols = raw.protocols ?? [...READING_SERVICES];
  const ports: Partial<Record<MailService, number>> = {};
  const byPort = new Map<number, string>();
  for (const service of MAIL_SERVICES) {
    const port = raw.ports?.[service];
    if (port === undefined) continue;
    if (isReadingService(service) && !protocols.includes(service)) {
      problems.push(`ports.${service}: ${port} is given but ${service} is not in protocols (${protocols.join(', ') || 'empty'}); add it there or drop the port`);
      continue;
    }
    const reason = rules.checkPort(port);
    if (reason) problems.push(`ports.${service}: ${port} ${reason}`);
    else if (byPort.has(port)) problems.push(`ports.${service}: ${port} is already the port of ${byPort.get(port)}`);
    byPort.set(port, service);
    ports[service] = port;
  }

  const extraSmtpPorts = (raw.ports?.extraSmtp ?? []).map((port, i) => {
    const path = `ports.extraSmtp[${i}]`;
    const reason = rules.checkPort(port);
    if (reason) problems.push(`${path}: ${port} ${reason}`);
    // Inside the container the listener has the same number: it may not take a standard one.
    else if ([25, 465, 587].includes(port)) problems.push(`${path}: ${port} is a standard SMTP port; publish it through ports.smtp, submission or submissions`);
    else if (byPort.has(port)) problems.push(`${path}: ${port} is already the port of ${byPort.get(port)}`);
    byPort.set(port, `ports.extraSmtp[${i}]`);
    return port;
  });
  // In the host's network postfix listens on the host ports itself, and its health check greets it on one of these (465 speaks TLS first).
  if (raw.docker?.hostNetwork && ports.smtp === undefined && ports.submission === undefined && extraSmtpPorts.length === 0) {
    problems.push('ports: docker.hostNetwork needs ports.smtp, ports.submission or ports.extraSmtp (postfix listens on the host ports itself, and its health check connects to one of these)');
  }
  const recipientDelimiter = raw.recipientDelimiter ?? DEFAULT_RECIPIENT_DELIMITER;
  if (!/^[-+=_.]?$/.test(recipientDelimiter)) problems.push(`recipientDelimiter: ${JSON.stringify(recipientDelimiter)} is not one of + - = _ . or "" (none)`);

  const tls: { certFile?: string; keyFile?: string } = {};
  if (raw.tls && (raw.tls.certFile !== undefined || raw.tls.keyFile !== undefined)) {
    for (const key of ['certFile', 'keyFile'] as const) {
      const value = raw.tls[key];
      if (value === undefined) {
        problems.push(`tls.${key}: is required when tls.${key === 'certFile' ? 'keyFile' : 'certFile'} is given`);
        continue;
      }
      if (rules.checkFilePath(value)) {
        check(`tls.${key}`, value, rules.checkFilePath);
        continue;
      }
      const absolute = isAbsolute(value) ? value : resolve(options.baseDir ?? process.cwd(), value);
      if (!existsSync(absolute)) problems.push(`tls.${key}: ${JSON.stringify(value)} does not exist (looked for ${absolute})`);
      tls[key] = absolute;
    }
  }

  const docker = {
    host: check('docker.host', raw.docker?.host ?? DEFAULT_DOCKER_HOST, rules.checkDockerHost),
    bindAddress: check('docker.bindAddress', raw.docker?.bindAddress ?? DEFAULT_BIND_ADDRESS, rules.checkIpAddress),
    namePrefix: check('docker.namePrefix', raw.docker?.namePrefix ?? DEFAULT_NAME_PREFIX, rules.checkNamePrefix),
    hostNetwork: raw.docker?.hostNetwork ?? false,
    ...normalizeDockerConnection(raw.docker, problems, options),
  };
  problems.push(...relayNetworkProblems(networks, docker.hostNetwork, raw.ipv6 ?? false));

  const smarthost = normalizeSmarthost(raw.relay?.smarthost, problems);
  const dkim: DkimConfig = {
    enabled: raw.dkim?.enabled ?? DEFAULT_DKIM.enabled,
    selector: check('dkim.selector', raw.dkim?.selector ?? DEFAULT_DKIM.selector, rules.checkLabel),
    keyBits: raw.dkim?.keyBits ?? DEFAULT_DKIM.keyBits,
  };
  const dns = normalizeDns(raw.dns, domains, hostname, problems, dkim.enabled ? dkim.selector : undefined);

  return {
    hostname,
    domains,
    mailboxes,
    aliases,
    dkim,
    dns,
    relay: smarthost ? { networks, smarthost } : { networks },
    limits: {
      messageSizeBytes: raw.limits?.messageSizeBytes ?? DEFAULT_MESSAGE_SIZE_BYTES,
      mailboxSizeBytes: raw.limits?.mailboxSizeBytes ?? DEFAULT_MAILBOX_SIZE_BYTES,
      ...DEFAULT_CLIENT_LIMITS,
      ...Object.fromEntries(Object.entries(raw.limits ?? {}).filter(([key]) => key in DEFAULT_CLIENT_LIMITS)),
    },
    protocols: READING_SERVICES.filter((p) => protocols.includes(p)),
    ipv6: raw.ipv6 ?? false,
    ports,
    extraSmtpPorts,
    recipientDelimiter,
    tls,
    docker,
  };
}

/**
 * Relay by network needs the client's real address. Through Docker's published
 * ports postfix sees every client as the bridge gateway, so it needs the host's
 * network stack; an IPv6 range needs postfix to speak IPv6.
 */
function relayNetworkProblems(networks: readonly string[], hostNetwork: boolean, ipv6: boolean): string[] {
  if (networks.length === 0) return [];
  if (!hostNetwork) {
    return ['relay.networks: needs docker.hostNetwork: true; through published ports every client appears as the Docker bridge gateway, so postfix cannot tell the listed networks from the Internet'];
  }
  return networks.flatMap((n, i) => (!ipv6 && n.includes(':') ? [`relay.networks[${i}]: ${JSON.stringify(n)} is an IPv6 network; set ipv6: true for postfix to accept IPv6 clients`] : []));
}

/**
 * How the engine at docker.host is reached: TLS client certificates for
 * tcp://, extra ssh flags for ssh://. An engine's TCP port without client
 * certificates is root on its host for anyone who reaches it, so tcp://
 * without docker.tls is refused unless the engine is on this machine.
 */
function normalizeDockerConnection(raw: RawConfig['docker'], problems: string[], options: LoadOptions): Pick<MailstackConfig['docker'], 'tls' | 'sshOptions'> {
  const host = raw?.host ?? DEFAULT_DOCKER_HOST;
  // An invalid host is reported by its own check; the rest would only repeat it.
  const url = rules.parseDockerHost(host);
  let tls: DockerTls | undefined;
  if (raw?.tls) {
    if (url && url.scheme !== 'tcp') {
      problems.push(`docker.tls: only applies to a tcp:// docker.host, not ${url.scheme}:// (ssh authenticates ssh://, file permissions unix://)`);
    }
    const files = {} as Record<keyof DockerTls, string>;
    for (const key of ['caFile', 'certFile', 'keyFile'] as const) {
      const value = raw.tls[key];
      const reason = rules.checkFilePath(value);
      if (reason) problems.push(`docker.tls.${key}: ${JSON.stringify(value)} ${reason}`);
      const absolute = isAbsolute(value) ? value : resolve(options.baseDir ?? process.cwd(), value);
      if (!reason && !existsSync(absolute)) problems.push(`docker.tls.${key}: ${JSON.stringify(value)} does not exist (looked for ${absolute})`);
      files[key] = absolute;
    }
    tls = files;
  } else if (url?.scheme === 'tcp' && url.port === 2376) {
    problems.push(`docker.host: ${JSON.stringify(host)} is Docker's TLS port (2376), which asks for a client certificate: give docker.tls (caFile, certFile, keyFile)`);
  } else if (url?.scheme === 'tcp' && !rules.isLoopback(url.host!)) {
    problems.push(
      `docker.host: ${JSON.stringify(host)} is an engine port without TLS: anyone who reaches it is root on that host. Give docker.tls (caFile, certFile, keyFile) for a port that requires client certificates, or use ssh://`,
    );
  }
  let sshOptions: string[] | undefined;
  if (raw?.sshOptions) {
    if (url && url.scheme !== 'ssh') problems.push(`docker.sshOptions: only applies to an ssh:// docker.host, not ${url.scheme}://`);
    sshOptions = raw.sshOptions.map((o, i) => {
      const reason = rules.checkSshOption(o);
      if (reason) problems.push(`docker.sshOptions[${i}]: ${JSON.stringify(o)} ${reason}`);
      return o;
    });
  }
  return { ...(tls ? { tls } : {}), ...(sshOptions ? { sshOptions } : {}) };
}

type RawSmarthost = NonNullable<NonNullable<RawConfig['relay']>['smarthost']>;

function normalizeSmarthost(raw: RawSmarthost | undefined, problems: string[]): Smarthost | undefined {
  if (!raw) return undefined;
  const push = (path: string, value: string | number, reason: string | undefined) => reason && problems.push(`relay.smarthost.${path}: ${JSON.stringify(value)} ${reason}`);
  push('host', raw.host, rules.checkHost(raw.host));
  const tls = raw.tls ?? 'starttls';
  const port = raw.port ?? (tls === 'implicit' ? 465 : 587);
  push('port', port, rules.checkPort(port));
  if (raw.username !== undefined) push('username', raw.username, rules.checkSaslUsername(raw.username));
  return { host: raw.host.toLowerCase(), port, tls, ...(raw.username !== undefined ? { username: raw.username } : {}) };
}

function normalizeDns(raw: RawDns | undefined, domains: readonly string[], hostname: string, problems: string[], dkimSelector: string | undefined): DnsConfig {
  const provider: DnsProviderName = raw === undefined ? 'none' : (raw.provider ?? 'rfc2136');
  const push = (path: string, value: unknown, reason: string | undefined) => reason && problems.push(`dns.${path}: ${JSON.stringify(value)} ${reason}`);
  const zones = (raw?.zones ?? [...domains]).map((z, i) => {
    const zone = z.toLowerCase().replace(/\.$/, '');
    // The default zones are the domains, already checked under their own key paths.
    if (raw?.zones) push(`zones[${i}]`, z, rules.checkDomainName(zone));
    return zone;
  });
  domains.forEach((d, i) => {
    if (!rules.checkDomainName(d) && !rules.zoneOf(d, zones)) problems.push(`dns.zones: domain "${d}" (domains[${i}]) is in none of the zones (${zones.join(', ')})`);
  });
  const addresses = (raw?.addresses ?? []).map((a, i) => {
    push(`addresses[${i}]`, a, rules.checkIpAddress(a));
    return a;
  });
  if (addresses.length > 0 && !rules.checkDomainName(hostname) && !rules.zoneOf(hostname, zones)) {
    problems.push(`dns.addresses: the A/AAAA records of hostname "${hostname}" belong in none of the zones (${zones.join(', ')}); add its zone to dns.zones`);
  }
  let rfc2136: DnsConfig['rfc2136'];
  if (raw?.rfc2136) {
    const r = raw.rfc2136;
    push('rfc2136.server', r.server, rules.checkHost(r.server));
    push('rfc2136.port', r.port ?? 53, rules.checkPort(r.port ?? 53));
    if (r.keyName !== undefined) push('rfc2136.keyName', r.keyName, rules.checkKeyName(r.keyName));
    rfc2136 = { server: r.server, port: r.port ?? 53, keyAlgorithm: r.keyAlgorithm ?? 'hmac-sha256', ...(r.keyName ? { keyName: r.keyName.endsWith('.') ? r.keyName : `${r.keyName}.` } : {}) };
  } else if (provider === 'rfc2136') {
    problems.push('dns.rfc2136: is required with provider rfc2136 (the server to send updates to)');
  }
  let cloudflare: DnsConfig['cloudflare'];
  if (raw?.cloudflare) {
    // Zone names are case-insensitive, as in the domains they are matched to.
    const zoneIds: Record<string, string> = {};
    const spelledAs: Record<string, string> = {};
    for (const [zone, id] of Object.entries(raw.cloudflare.zoneIds)) {
      const key = `dns.cloudflare.zoneIds[${JSON.stringify(zone)}]`;
      const name = zone.toLowerCase();
      if (!zones.includes(name)) problems.push(`${key}: is not one of the zones (${zones.join(', ')})`);
      if (!/^[0-9a-f]{32}$/.test(id)) problems.push(`${key}: ${JSON.stringify(id)} is not a Cloudflare zone id (32 hex digits)`);
      if (name in spelledAs) problems.push(`${key}: names the same zone as ${JSON.stringify(spelledAs[name])} (zone names ignore case)`);
      spelledAs[name] = zone;
      zoneIds[name] = id;
    }
    for (const zone of zones) if (!(zone in zoneIds)) problems.push(`dns.cloudflare.zoneIds: zone "${zone}" has no zone id`);
    cloudflare = { zoneIds };
  } else if (provider === 'cloudflare') {
    problems.push('dns.cloudflare: is required with provider cloudflare (zoneIds)');
  }
  const spf = raw?.spf === undefined || raw.spf === true ? DEFAULT_SPF : raw.spf;
  if (spf !== false) {
    push('spf', spf, rules.checkTxtValue(spf));
    if (!spf.startsWith('v=spf1')) problems.push(`dns.spf: ${JSON.stringify(spf)} is not an SPF record (it must start with "v=spf1")`);
  }
  const section = <T extends object>(value: boolean | T | undefined): T | false => (value === false ? false : value === true || value === undefined ? ({} as T) : value);
  const dmarcRaw = section(raw?.dmarc);
  if (dmarcRaw && dmarcRaw.rua !== undefined) push('dmarc.rua', dmarcRaw.rua, rules.checkReportAddress(dmarcRaw.rua));
  const tlsRptRaw = section(raw?.tlsRpt);
  if (tlsRptRaw && tlsRptRaw.rua !== undefined) push('tlsRpt.rua', tlsRptRaw.rua, rules.checkReportAddress(tlsRptRaw.rua));
  const mtaStsRaw = section(raw?.mtaSts);
  // A record name has at most 253 characters: the longest prefix a domain's records get decides.
  // Only when the records are asked for (a dns section): the mail system itself takes any domain name.
  const prefixes = [
    ...(dkimSelector !== undefined && (raw?.dkim ?? true) ? [`${dkimSelector}._domainkey.`] : []),
    ...(dmarcRaw ? ['_dmarc.'] : []),
    ...(mtaStsRaw ? ['_mta-sts.'] : []),
    ...(tlsRptRaw ? ['_smtp._tls.'] : []),
    ...((raw?.srv ?? true) ? ['_submissions._tcp.'] : []),
  ].sort((a, b) => b.length - a.length);
  domains.forEach((d, i) => {
    const name = `${prefixes[0] ?? ''}${d}`;
    if (raw !== undefined && !rules.checkDomainName(d) && name.length > 253) {
      problems.push(`domains[${i}]: "${d}" is too long for its DNS records: "${name}" would have ${name.length} characters (at most 253); shorten the domain or dkim.selector, or turn that record off under dns`);
    }
  });
  return {
    provider,
    ...(rfc2136 ? { rfc2136 } : {}),
    ...(cloudflare ? { cloudflare } : {}),
    zones,
    ttl: raw?.ttl ?? 3600,
    addresses,
    mx: raw?.mx ?? true,
    spf,
    dkim: raw?.dkim ?? true,
    dmarc: dmarcRaw && { policy: dmarcRaw.policy ?? 'quarantine', adkim: dmarcRaw.adkim ?? 'r', aspf: dmarcRaw.aspf ?? 'r', percent: dmarcRaw.percent ?? 100, ...(dmarcRaw.rua ? { rua: dmarcRaw.rua } : {}) },
    mtaSts: mtaStsRaw && { mode: mtaStsRaw.mode ?? 'testing', maxAgeSeconds: mtaStsRaw.maxAgeSeconds ?? 604800 },
    tlsRpt: tlsRptRaw && (tlsRptRaw.rua ? { rua: tlsRptRaw.rua } : {}),
    srv: raw?.srv ?? true,
  };
}

/** Turns ajv's errors into key-path messages ("mailboxes[2].quotaBytes: must be integer"). */
function shapeProblems(errors: ErrorObject[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of errors) {
    // oneOf failures repeat each branch's complaint; the summary line says enough.
    if (e.keyword === 'oneOf') continue;
    let path = keyPath(e.instancePath);
    let message = e.message ?? 'is not valid';
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      path = appendKey(path, key);
      message = 'is not a known key';
    } else if (e.keyword === 'required') {
      const key = (e.params as { missingProperty: string }).missingProperty;
      path = appendKey(path, key);
      message = 'is required';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'type' && e.instancePath.startsWith('/aliases/')) {
      message = 'must be an address or a list of addresses';
    }
    const line = `${path || '(top level)'}: ${message}`;
    if (!seen.has(line)) out.push(line);
    seen.add(line);
  }
  return out;
}

function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part, i, parts) => {
      // Keys the user names (alias addresses, zone names) are quoted, as the value checks write them.
      const userKey = (i === 1 && parts[0] === 'aliases') || (i === 3 && parts.slice(0, 3).join('/') === 'dns/cloudflare/zoneIds');
      if (!userKey && /^\d+$/.test(part)) return `${path}[${part}]`;
      return appendKey(path, part, userKey);
    }, '');
}

/** `path.key`, or `path["key"]` for a user's key or one that is not a plain word (a dot, a space or a newline would blur the path). */
function appendKey(path: string, key: string, quoted = false): string {
  if (quoted || !/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}
