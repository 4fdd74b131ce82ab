/**
 * Renders postfix's master.cf: the three SMTP listeners plus Debian's stock
 * internal services. chroot is off: the container is the jail, and the shared
 * dovecot sockets are mounted under the queue directory either way.
 */

import { MailSystemModel } from './model';

/** What each SMTP listener does beyond main.cf. */
const SMTP_OPTIONS = '';
const SUBMISSION_OPTIONS = `\
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sender_restrictions=reject_authenticated_sender_login_mismatch
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
  -o milter_default_action=tempfail
`;
const SUBMISSIONS_OPTIONS = `\
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sender_restrictions=reject_authenticated_sender_login_mismatch
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
  -o milter_default_action=tempfail
`;

const HEADER = `# service  type  private unpriv  chroot  wakeup  maxproc command
`;

const listener = (service: string, comment: string, options: string) =>
  `# ${comment}\n${service.padEnd(10)} inet  n       -       n       -       -       smtpd\n${options}`;

const INTERNAL_SERVICES = `\
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/$service_name
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
`;

/**
 * In the container's own network the listeners take their standard ports
 * (Docker publishes them); in the host's network they take the host ports on
 * the bind address, and one not published does not listen.
 */
export function renderMasterCf(model: Pick<MailSystemModel, 'extraSmtpPorts' | 'hostListeners'>): string {
  const host = model.hostListeners;
  const at = (port: number) => (!host || host.bindAddress === '0.0.0.0' ? String(port) : host.bindAddress.includes(':') ? `[${host.bindAddress}]:${port}` : `${host.bindAddress}:${port}`);
  const name = (service: 'smtp' | 'submission' | 'submissions'): string | undefined => (!host ? service : host[service] === undefined ? undefined : at(host[service]!));
  const listeners: [string | undefined, string, string][] = [
    [name('smtp'), 'SMTP from other servers (MX): STARTTLS offered, no AUTH.', SMTP_OPTIONS],
    [name('submission'), 'Submission (RFC 6409): STARTTLS required, then AUTH, then relay.', SUBMISSION_OPTIONS],
    [name('submissions'), 'Submission over implicit TLS (RFC 8314).', SUBMISSIONS_OPTIONS],
    ...[...model.extraSmtpPorts]
      .sort((a, b) => a - b)
      .map((port): [string, string, string] => [at(port), `Extra SMTP listener (ports.extraSmtp), the same policy as port 25.`, `  -o syslog_name=postfix/smtp-${port}\n`]),
  ];
  const rendered = listeners.filter(([service]) => service !== undefined).map(([service, comment, options]) => listener(service!, comment, options));
  return `# master.cf, rendered by mailstack. Changes here are overwritten.\n${HEADER}${rendered.join('')}${INTERNAL_SERVICES}`;
}
