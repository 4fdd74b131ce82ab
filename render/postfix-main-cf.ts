/** Renders postfix's main.cf. */
import { mynetworksEntry } from '../config/rules';
import type { Smarthost } from '../config/model';
import {
  INTERMEDIATE_CIPHERS,
  POSTFIX_AUTH_SOCKET,
  POSTFIX_LMTP_SOCKET,
  POSTFIX_MAPS,
  POSTFIX_QUOTA_SOCKET,
  POSTFIX_SOCKET_DIR,
  TLS_CERT_FILE,
  TLS_KEY_FILE,
} from './layout';
import { MailSystemModel } from './model';

export function renderMainCf(model: MailSystemModel): string {
  const smarthost = model.smarthost;
  // In its own network namespace the loopback is the container's; in the host's
  // it would be every local process (and any proxy there), so it is not trusted.
  const loopback = model.hostListeners ? [] : ['127.0.0.0/8', '[::1]/128'];
  const mynetworks = [...loopback, ...model.relayNetworks.map(mynetworksEntry)];
  const params: [string, string][] = [
    ['compatibility_level', '3.6'],
    ['myhostname', model.hostname],
    ['myorigin', '$myhostname'],
    // Postfix's own notices (bounces it cannot return, resource and software
    // errors) go to a real postmaster, not to postmaster@<hostname>, which is no mail domain.
    ['bounce_notice_recipient', `postmaster@${model.domains[0]}`],
    ['2bounce_notice_recipient', `postmaster@${model.domains[0]}`],
    ['delay_notice_recipient', `postmaster@${model.domains[0]}`],
    ['error_notice_recipient', `postmaster@${model.domains[0]}`],
    ['smtpd_banner', '$myhostname ESMTP'],
    ['biff', 'no'],
    ['append_dot_mydomain', 'no'],
    ['readme_directory', 'no'],
    // A bridged container has no IPv6 (IPv6 clients arrive through Docker's
    // proxy as IPv4); in the host's network stack postfix can speak it.
    ['inet_interfaces', 'all'],
    ['inet_protocols', model.hostListeners && model.ipv6 ? 'all' : 'ipv4'],
    // Logs go to the container's stdout, read with `docker logs`.
    ['maillog_file', '/dev/stdout'],

    // Every mail domain is virtual: nothing is delivered to unix accounts.
    ['mydestination', ''],
    ['local_recipient_maps', ''],
    ['alias_maps', ''],
    ['alias_database', ''],
    ['local_transport', 'error:5.1.1 local delivery is disabled'],
    ['virtual_mailbox_domains', `texthash:${POSTFIX_MAPS.virtualMailboxDomains}`],
    ['virtual_mailbox_maps', `texthash:${POSTFIX_MAPS.virtualMailboxMaps}`],
    ['virtual_alias_maps', `texthash:${POSTFIX_MAPS.virtualAliasMaps}`],
    ['virtual_transport', `lmtp:unix:${POSTFIX_LMTP_SOCKET}`],
    // Address extensions: with "+", alice+lists@example.test reaches alice.
    ['recipient_delimiter', model.recipientDelimiter],
    ['message_size_limit', String(model.messageSizeBytes)],
    ['mailbox_size_limit', '0'],

    // Relay: only the listed networks (the container's own loopback plus
    // relay.networks, never the Docker bridge) and authenticated users.
    ['mynetworks', mynetworks.join(' ')],
    ['smtpd_relay_restrictions', 'permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination'],
    // A full mailbox is refused at RCPT (552 5.2.2) by dovecot's quota-status
    // service; while dovecot is down the mail is queued instead.
    ['smtpd_recipient_restrictions', `reject_non_fqdn_recipient, reject_unlisted_recipient, check_policy_service { unix:${POSTFIX_QUOTA_SOCKET}, default_action=DUNNO }`],
    ['smtpd_data_restrictions', 'reject_unauth_pipelining'],
    // Logged-in users send only as addresses they own (their mailbox, aliases that
    // reach it): enforced on the submission listeners, where AUTH is on (master.cf).
    ['smtpd_sender_login_maps', `texthash:${POSTFIX_MAPS.senderLoginMaps}`],
    // Malformed SMTP: commands sent ahead of the greeting/replies, and bare LF line
    // endings (SMTP smuggling), are refused; relay.networks (old printers) are exempt.
    ['smtpd_forbid_unauth_pipelining', 'yes'],
    ['smtpd_forbid_bare_newline', 'reject'],
    // Per client address (anvil); relay.networks are exempt through $mynetworks.
    ['smtpd_client_connection_rate_limit', String(model.clientLimits.clientConnectionsPerMinute)],
    ['smtpd_client_connection_count_limit', String(model.clientLimits.clientConcurrentConnections)],
    ['smtpd_client_message_rate_limit', String(model.clientLimits.clientMessagesPerMinute)],
    ['smtpd_client_auth_rate_limit', String(model.clientLimits.clientAuthAttemptsPerMinute)],
    ['anvil_rate_time_unit', '60s'],
    ['smtpd_helo_required', 'yes'],
    ['disable_vrfy_command', 'yes'],
    // Classic relay tricks: user%other@here and bang paths are not rewritten.
    ['allow_percent_hack', 'no'],
    ['swap_bangpath', 'no'],

    // SASL through dovecot, enabled per listener in master.cf (submission, submissions).
    ['smtpd_sasl_type', 'dovecot'],
    ['smtpd_sasl_path', POSTFIX_AUTH_SOCKET],
    ['smtpd_sasl_auth_enable', 'no'],
    ['smtpd_sasl_security_options', 'noanonymous, noplaintext'],
    ['smtpd_sasl_tls_security_options', 'noanonymous'],
    ['smtpd_tls_auth_only', 'yes'],

    // TLS in: opportunistic on 25, required on submission; TLS 1.2+ everywhere
    // (465 follows smtpd_tls_protocols, not the mandatory ones).
    ['smtpd_tls_cert_file', TLS_CERT_FILE],
    ['smtpd_tls_key_file', TLS_KEY_FILE],
    ['smtpd_tls_security_level', 'may'],
    ['smtpd_tls_protocols', '>=TLSv1.2'],
    ['smtpd_tls_mandatory_protocols', '>=TLSv1.2'],
    ['smtpd_tls_ciphers', 'medium'],
    ['smtpd_tls_mandatory_ciphers', 'medium'],
    ['tls_medium_cipherlist', INTERMEDIATE_CIPHERS],
    // The server's order (all AEAD with forward secrecy): scanners rate "no order" HIGH.
    ['tls_preempt_cipherlist', 'yes'],
    ['smtpd_tls_received_header', 'yes'],
    ['smtpd_tls_loglevel', '1'],
    ['smtpd_tls_session_cache_database', 'btree:${data_directory}/smtpd_scache'],

    // TLS out: opportunistic for direct delivery; required to a smarthost unless told otherwise.
    ['smtp_tls_security_level', smarthost ? (smarthost.tls === 'none' ? 'may' : 'encrypt') : 'may'],
    ['smtp_tls_CAfile', '/etc/ssl/certs/ca-certificates.crt'],
    ['smtp_tls_loglevel', '1'],
    ['smtp_tls_session_cache_database', 'btree:${data_directory}/smtp_scache'],
    ...smarthostParameters(smarthost),
    ...(model.dkimSigning ? milterParameters() : []),
  ];
  return renderParameters('main.cf', params);
}

/** relayhost and its SASL login; the password map is uploaded separately (it holds a secret). */
function smarthostParameters(smarthost: Smarthost | undefined): [string, string][] {
  if (!smarthost) return [];
  const params: [string, string][] = [['relayhost', smarthostNexthop(smarthost)]];
  if (smarthost.tls === 'implicit') params.push(['smtp_tls_wrappermode', 'yes']);
  if (smarthost.username) {
    params.push(
      ['smtp_sasl_auth_enable', 'yes'],
      ['smtp_sasl_password_maps', `texthash:${POSTFIX_MAPS.saslPasswords}`],
      ['smtp_sasl_security_options', 'noanonymous'],
      ['smtp_sasl_tls_security_options', 'noanonymous'],
    );
  }
  return params;
}

/** `[host]:port`: brackets turn off the MX lookup, as a smarthost wants. */
export const smarthostNexthop = (s: Smarthost) => `[${s.host}]:${s.port}`;

/**
 * DKIM signing through OpenDKIM. If the milter is down, mail from port 25 is
 * still accepted (inbound needs no signature); submission overrides this to
 * tempfail in master.cf, so nothing leaves unsigned.
 */
function milterParameters(): [string, string][] {
  return [
    ['smtpd_milters', `unix:${POSTFIX_SOCKET_DIR}/opendkim.sock`],
    ['non_smtpd_milters', '$smtpd_milters'],
    ['milter_default_action', 'accept'],
  ];
}

/** One line per parameter; a duplicate key is a bug (postfix warns, and postlogd can deadlock). */
function renderParameters(file: string, params: [string, string][]): string {
  const seen = new Set<string>();
  const lines = [`# ${file}, rendered by mailstack from mailstack.yaml. Changes here are overwritten.`];
  for (const [key, value] of params) {
    if (seen.has(key)) throw new Error(`${file}: parameter ${key} rendered twice`);
    seen.add(key);
    lines.push(value === '' ? `${key} =` : `${key} = ${value}`);
  }
  return lines.join('\n') + '\n';
}
