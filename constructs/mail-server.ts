import { Network } from '@cdktf/provider-docker/lib/network';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { dependable, Lazy, TerraformOutput, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { checkMailDirectory } from '../config/consistency';
import { ClientLimits, DEFAULT_CLIENT_LIMITS, DEFAULT_MAILBOX_SIZE_BYTES, DEFAULT_MESSAGE_SIZE_BYTES, DnsConfig, Mailbox, READING_SERVICES, ReadingService, Smarthost } from '../config/model';
import * as rules from '../config/rules';
import { renderAutoconfig, renderClientSettings } from '../render/client-settings';
import { HostListeners, MailSystemModel } from '../render/model';
import { terraformLiteral } from './terraform-literal';
import { Dkim } from './dkim';
import { IDnsBackend } from './dns/backend';
import { Dovecot, DovecotPorts } from './dovecot';
import { MailDirectory } from './mail-directory';
import { MailDns } from './mail-dns';
import { MailCertificate } from './mail-certificate';
import { MailVolumes } from './mail-volumes';
import { IMailSystem, Postfix, PostfixPorts } from './postfix';

export interface MailboxOptions {
  /** Address and login name. */
  readonly address: string;
  /** A dovecot password hash, e.g. what `doveadm pw -s SHA512-CRYPT` prints. Never a clear-text password. */
  readonly passwordHash: string;
  /** Quota in bytes; 0 is unlimited. @default the server's mailboxSizeBytes */
  readonly quotaBytes?: number;
}

/** Host ports to publish, per service; a service left out is not published. */
export interface MailPorts extends PostfixPorts, DovecotPorts {}

export interface MailServerProps {
  /** Fully qualified name of the mail host (myhostname, certificate name, MX target). */
  readonly hostname: string;
  /** Domains whose mail is delivered here. More with `addDomain`. @default [] */
  readonly domains?: string[];
  /** More with `addMailbox`. @default [] */
  readonly mailboxes?: MailboxOptions[];
  /** Alias (or `@domain` catch-all) to targets. More with `addAlias`. @default {} */
  readonly aliases?: Record<string, string | string[]>;
  /** Networks (CIDR) that may relay without authentication. @default [] */
  readonly relayNetworks?: string[];
  /** Largest message accepted, in bytes. @default 26214400 */
  readonly messageSizeBytes?: number;
  /**
   * Per SMTP client address (postfix anvil), 0 for unlimited; relayNetworks are exempt.
   * @default { clientConnectionsPerMinute: 60, clientConcurrentConnections: 20, clientMessagesPerMinute: 100, clientAuthAttemptsPerMinute: 10 }
   */
  readonly clientLimits?: Partial<ClientLimits>;
  /** Quota of every mailbox without its own quotaBytes; 0 is unlimited. @default 0 */
  readonly mailboxSizeBytes?: number;
  /** The mail-reading services that run; one left out does not listen at all. @default ['imap', 'imaps', 'pop3', 'pop3s'] */
  readonly protocols?: ReadingService[];
  /** Accept IPv6 clients: publish on [::] too, and with hostNetwork let postfix speak IPv6. @default false */
  readonly ipv6?: boolean;
  /**
   * Run postfix in the host's network stack so it sees clients' real addresses;
   * required for relayNetworks. @default false
   */
  readonly hostNetwork?: boolean;
  /** Host ports to publish. @default {} (nothing published) */
  readonly ports?: MailPorts;
  /** More SMTP listeners like port 25 (e.g. [10025]), published on the same number. @default [] */
  readonly extraSmtpPorts?: number[];
  /** Address-extension delimiter: alice+tag@ reaches alice. '' for none. @default '+' */
  readonly recipientDelimiter?: string;
  /** Host address ports are published on. @default '0.0.0.0' */
  readonly bindAddress?: string;
  /** Prefix of every container, volume, network and image name. @default 'mailstack' */
  readonly namePrefix?: string;
  /** A certificate the operator brings (PEM strings or expressions such as `Fn.file`). @default self-signed */
  readonly certificate?: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Base image of both images. @default 'debian:bookworm-slim' */
  readonly baseImage?: string;
  /** Keep mail and queue volumes when the stack is destroyed. @default true */
  readonly retainVolumes?: boolean;
  /** @default the stack's default docker provider */
  readonly dockerProvider?: DockerProvider;
  /** @default the stack's default tls provider */
  readonly tlsProvider?: TlsProvider;
  /** DKIM signing with OpenDKIM, a key per domain; false turns it off. @default { selector: 'mailstack', keyBits: 2048 } */
  readonly dkim?: { readonly selector?: string; readonly keyBits?: 1024 | 2048 | 3072 | 4096 } | false;
  /** The DNS records to declare; with `dnsBackend`, where to publish them. @default no DNS records */
  readonly dns?: DnsConfig;
  /** @default none: the records are only written to the zone_file output */
  readonly dnsBackend?: IDnsBackend;
  /**
   * Send all non-local mail through this relay. With a username, the password is the
   * sensitive Terraform variable `smarthost_password` (TF_VAR_smarthost_password).
   * @default direct delivery
   */
  readonly smarthost?: Smarthost;
}

/**
 * A complete mail system on one Docker host: postfix and dovecot containers,
 * their volumes and network, and the TLS certificate.
 */
export class MailServer extends Construct implements IMailSystem {
  public readonly network: Network;
  public readonly volumes: MailVolumes;
  public readonly certificate: MailCertificate;
  public readonly dovecot: Dovecot;
  public readonly postfix: Postfix;
  /** Domains, mailboxes, aliases and logins, published to the daemons without replacing them. */
  public readonly directory: MailDirectory;
  public readonly hostname: string;
  public readonly namePrefix: string;
  /** Set unless DKIM is off. */
  public readonly dkim?: Dkim;
  /** Set when `dns` is given. */
  public readonly dns?: MailDns;
  /** Set when the smarthost needs a password. */
  public readonly smarthostPassword?: TerraformVariable;
  private readonly smarthost?: Smarthost;

  private readonly domains: string[] = [];
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly aliases = new Map<string, string[]>();
  private readonly relayNetworks: string[];
  private readonly messageSizeBytes: number;
  private readonly extraSmtpPorts: number[];
  private readonly recipientDelimiter: string;
  private readonly mailboxSizeBytes: number;
  private readonly clientLimits: ClientLimits;
  private readonly protocols: ReadingService[];
  private readonly ipv6: boolean;
  private readonly hostListeners?: HostListeners;

  constructor(scope: Construct, id: string, props: MailServerProps) {
    super(scope, id);
    this.hostname = must('hostname', props.hostname.toLowerCase(), rules.checkDomainName);
    this.namePrefix = must('namePrefix', props.namePrefix ?? 'mailstack', rules.checkNamePrefix);
    const bindAddress = must('bindAddress', props.bindAddress ?? '0.0.0.0', rules.checkIpAddress);
    this.relayNetworks = (props.relayNetworks ?? []).map((n) => must('relay network', n, rules.checkNetwork));
    this.messageSizeBytes = props.messageSizeBytes ?? DEFAULT_MESSAGE_SIZE_BYTES;
    if (!Number.isInteger(this.messageSizeBytes) || this.messageSizeBytes < 1024) {
      throw new Error(`messageSizeBytes ${this.messageSizeBytes} is not a whole number of at least 1024`);
    }
    for (const [service, port] of Object.entries(props.ports ?? {})) {
      if (rules.checkPort(port)) throw new Error(`port ${port} of ${service} ${rules.checkPort(port)}`);
    }
    this.extraSmtpPorts = [...(props.extraSmtpPorts ?? [])];
    for (const port of this.extraSmtpPorts) {
      if (rules.checkPort(port) || [25, 465, 587].includes(port)) throw new Error(`extra SMTP port ${port} is not a TCP port other than 25, 465 and 587`);
    }
    this.recipientDelimiter = props.recipientDelimiter ?? '+';
    if (!/^[-+=_.]?$/.test(this.recipientDelimiter)) throw new Error(`recipientDelimiter "${this.recipientDelimiter}" is not one of + - = _ . or ""`);
    this.clientLimits = { ...DEFAULT_CLIENT_LIMITS, ...props.clientLimits };
    for (const [name, value] of Object.entries(this.clientLimits)) {
      if (!Number.isInteger(value) || value < 0) throw new Error(`${name} ${value} is not a whole number (0 for unlimited)`);
    }
    this.mailboxSizeBytes = props.mailboxSizeBytes ?? DEFAULT_MAILBOX_SIZE_BYTES;
    if (!Number.isInteger(this.mailboxSizeBytes) || this.mailboxSizeBytes < 0) throw new Error(`mailboxSizeBytes ${this.mailboxSizeBytes} is not a whole number of bytes`);
    this.protocols = [...(props.protocols ?? READING_SERVICES)];
    for (const p of this.protocols) {
      if (!READING_SERVICES.includes(p)) throw new Error(`protocol "${p}" is not one of ${READING_SERVICES.join(', ')}`);
    }
    for (const service of READING_SERVICES) {
      if (props.ports?.[service] !== undefined && !this.protocols.includes(service)) throw new Error(`port ${props.ports[service]} of ${service} is given but ${service} is not in protocols`);
    }
    this.ipv6 = props.ipv6 ?? false;
    if (this.relayNetworks.length > 0 && !props.hostNetwork) {
      throw new Error('relayNetworks needs hostNetwork: through published ports every client appears as the Docker bridge gateway, so postfix cannot tell the networks apart');
    }
    if (props.hostNetwork) {
      const ports = props.ports ?? {};
      this.hostListeners = { bindAddress, smtp: ports.smtp, submission: ports.submission, submissions: ports.submissions };
    }

    const dockerProvider = props.dockerProvider;
    this.network = new Network(this, 'Network', {
      provider: dockerProvider,
      name: `${this.namePrefix}-net`,
      labels: [{ label: 'org.mailstack.stack', value: this.namePrefix }],
    });
    this.volumes = new MailVolumes(this, 'Volumes', { namePrefix: this.namePrefix, retain: props.retainVolumes, provider: dockerProvider });
    this.certificate = new MailCertificate(this, 'Certificate', {
      hostname: this.hostname,
      certificatePem: props.certificate?.certificatePem,
      privateKeyPem: props.certificate?.privateKeyPem,
      provider: props.tlsProvider,
    });
    if (props.smarthost) {
      const s = props.smarthost;
      must('smarthost host', s.host, rules.checkHost);
      if (rules.checkPort(s.port)) throw new Error(`smarthost port ${s.port} ${rules.checkPort(s.port)}`);
      if (s.username !== undefined) must('smarthost username', s.username, rules.checkSaslUsername);
      this.smarthost = { ...s };
      if (s.username !== undefined) {
        this.smarthostPassword = new TerraformVariable(this, 'SmarthostPassword', {
          type: 'string',
          sensitive: true,
          nullable: false,
          description: `Password of ${s.username} at the smarthost ${s.host} (set TF_VAR_smarthost_password).`,
        });
        // A fixed name, so the environment variable is TF_VAR_smarthost_password wherever the construct sits.
        this.smarthostPassword.overrideLogicalId('smarthost_password');
      }
    }
    if (props.dkim !== false) {
      this.dkim = new Dkim(this, 'Dkim', {
        namePrefix: this.namePrefix,
        hostname: this.hostname,
        networkName: this.network.name,
        volumes: this.volumes,
        internalNetworks: this.relayNetworks,
        selector: props.dkim?.selector,
        keyBits: props.dkim?.keyBits,
        baseImage: props.baseImage,
        dockerProvider,
        tlsProvider: props.tlsProvider,
      });
    }
    if (props.dns) {
      const dkim = this.dkim;
      this.dns = new MailDns(this, 'Dns', {
        hostname: this.hostname,
        dns: props.dns,
        ports: props.ports ?? {},
        backend: props.dnsBackend,
        dkim: dkim && { selector: dkim.selector, txtRecord: (d) => dkim.txtRecord(d) },
      });
    }
    const common = {
      system: this,
      namePrefix: this.namePrefix,
      hostname: this.hostname,
      networkName: this.network.name,
      volumes: this.volumes,
      certificate: this.certificate,
      bindAddress,
      baseImage: props.baseImage,
      provider: dockerProvider,
    };
    const ports = props.ports ?? {};
    this.dovecot = new Dovecot(this, 'Dovecot', { ...common, publishIpv6: this.ipv6, ports: { imap: ports.imap, imaps: ports.imaps, pop3: ports.pop3, pop3s: ports.pop3s } });
    this.directory = new MailDirectory(this, 'Directory', { system: this, namePrefix: this.namePrefix, volumes: this.volumes, dovecotImageId: this.dovecot.image.imageId, provider: dockerProvider });
    // The daemons read what it publishes: it goes first.
    this.dovecot.container.dependsOn = [...(this.dovecot.container.dependsOn ?? []), dependable(this.directory.container)];
    this.postfix = new Postfix(this, 'Postfix', {
      ...common,
      publishIpv6: this.ipv6,
      ports: { smtp: ports.smtp, submission: ports.submission, submissions: ports.submissions },
      smarthostPassword: this.smarthostPassword?.stringValue,
      dependsOn: [this.directory.container, this.dovecot.container, ...(this.dkim ? [this.dkim.container] : [])],
    });

    for (const d of props.domains ?? []) this.addDomain(d);
    for (const m of props.mailboxes ?? []) this.addMailbox(m);
    for (const [alias, targets] of Object.entries(props.aliases ?? {})) this.addAlias(alias, targets);

    // What users type into their mail clients, and the same for Thunderbird's autoconfig.
    new TerraformOutput(this, 'client_settings', {
      staticId: true,
      description: 'Per service: host, port, security and authentication, as a mail client asks for them.',
      value: renderClientSettings(this.hostname, props.ports ?? {}),
    });
    new TerraformOutput(this, 'autoconfig_xml', {
      staticId: true,
      description: 'Thunderbird autoconfig (config-v1.1.xml), to serve at https://autoconfig.<domain>/mail/config-v1.1.xml.',
      value: Lazy.stringValue({ produce: () => terraformLiteral(renderAutoconfig(this.hostname, this.domains, props.ports ?? {})) }),
    });

    this.node.addValidation({
      validate: () => [
        ...(this.domains.length === 0 ? ['a mail server needs at least one domain (addDomain)'] : []),
        ...checkMailDirectory(this.model),
      ],
    });
  }

  /** Adds a domain whose mail is delivered here. */
  public addDomain(domain: string): void {
    const d = must('domain', domain.toLowerCase(), rules.checkDomainName);
    if (this.domains.includes(d)) throw new Error(`domain "${d}" is already added`);
    this.domains.push(d);
    this.dkim?.addDomain(d);
    this.dns?.addDomain(d);
  }

  public addMailbox(options: MailboxOptions): void {
    const address = must('mailbox address', options.address.toLowerCase(), rules.checkAddress);
    if (this.mailboxes.has(address)) throw new Error(`mailbox "${address}" is already added`);
    must(`password hash of ${address}`, options.passwordHash, rules.checkPasswordHash);
    const quotaBytes = options.quotaBytes ?? this.mailboxSizeBytes;
    if (!Number.isInteger(quotaBytes) || quotaBytes < 0) throw new Error(`quotaBytes ${quotaBytes} of ${address} is not a whole number of bytes`);
    this.mailboxes.set(address, { address, passwordHash: options.passwordHash, quotaBytes });
  }

  /** Adds an alias (an address, or `@domain` for a catch-all) delivering to one or more addresses. */
  public addAlias(alias: string, targets: string | string[]): void {
    const key = alias.toLowerCase();
    if (key.startsWith('@')) must('catch-all domain', key.slice(1), rules.checkDomainName);
    else must('alias', key, rules.checkAddress);
    if (this.aliases.has(key)) throw new Error(`alias "${key}" is already added`);
    const list = (Array.isArray(targets) ? targets : [targets]).map((t) => must(`target of alias ${key}`, t.toLowerCase(), rules.checkAddress));
    if (list.length === 0) throw new Error(`alias "${key}" has no targets`);
    this.aliases.set(key, list);
  }

  /** The mail system as the renderers see it, as it stands now. */
  public get model(): MailSystemModel {
    return {
      hostname: this.hostname,
      domains: [...this.domains],
      mailboxes: [...this.mailboxes.values()],
      aliases: Object.fromEntries(this.aliases),
      relayNetworks: [...this.relayNetworks],
      messageSizeBytes: this.messageSizeBytes,
      clientLimits: { ...this.clientLimits },
      recipientDelimiter: this.recipientDelimiter,
      extraSmtpPorts: [...this.extraSmtpPorts],
      dkimSigning: this.dkim !== undefined,
      protocols: [...this.protocols],
      ipv6: this.ipv6,
      ...(this.hostListeners ? { hostListeners: this.hostListeners } : {}),
      ...(this.smarthost ? { smarthost: this.smarthost } : {}),
    };
  }
}

function must(what: string, value: string, rule: (v: string) => string | undefined): string {
  const reason = rule(value);
  if (reason) throw new Error(`${what} ${JSON.stringify(value)} ${reason}`);
  return value;
}
