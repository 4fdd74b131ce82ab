/** Renders OpenDKIM's configuration: sign-only, one key per mail domain. */
import { SOCKET_DIR } from './layout';
import { sorted } from './model';

/** The milter socket, as the opendkim container sees the shared socket volume. */
export const OPENDKIM_SOCKET = `${SOCKET_DIR}/opendkim.sock`;
export const OPENDKIM_KEY_DIR = '/etc/opendkim/keys';
export const opendkimKeyFile = (domain: string) => `${OPENDKIM_KEY_DIR}/${domain}.private`;

export interface OpendkimModel {
  readonly domains: readonly string[];
  readonly selector: string;
  /** Networks whose unauthenticated mail is signed too (relay.networks). */
  readonly internalNetworks: readonly string[];
}

export function renderOpendkimConf(): string {
  return `# opendkim.conf, rendered by mailstack. Changes here are overwritten.
# Sign only: mail from authenticated users (postfix passes {auth_authen}), from
# the submission listeners (daemon name ORIGINATING) and from InternalHosts.
Mode                    s
MTA                     ORIGINATING
Socket                  local:${OPENDKIM_SOCKET}
UMask                   007
UserID                  postfix:postfix
PidFile                 /run/opendkim/opendkim.pid
Syslog                  yes
SyslogSuccess           yes
LogWhy                  yes
Canonicalization        relaxed/simple
SignatureAlgorithm      rsa-sha256
OversignHeaders         From
RequireSafeKeys         yes
KeyTable                refile:/etc/opendkim/KeyTable
SigningTable            refile:/etc/opendkim/SigningTable
InternalHosts           refile:/etc/opendkim/InternalHosts
ExternalIgnoreList      refile:/etc/opendkim/InternalHosts
`;
}

/** KeyTable: key name -> domain:selector:key file. */
export function renderKeyTable(m: OpendkimModel): string {
  return sorted(m.domains)
    .map((d) => `${m.selector}._domainkey.${d} ${d}:${m.selector}:${opendkimKeyFile(d)}\n`)
    .join('');
}

/** SigningTable: which key signs mail from which sender domain. */
export function renderSigningTable(m: OpendkimModel): string {
  return sorted(m.domains)
    .map((d) => `*@${d} ${m.selector}._domainkey.${d}\n`)
    .join('');
}

/** InternalHosts: the postfix container's own loopback and relay.networks, never the Docker bridge. */
export function renderInternalHosts(m: OpendkimModel): string {
  return ['127.0.0.1', '::1', ...m.internalNetworks].map((n) => `${n}\n`).join('');
}
