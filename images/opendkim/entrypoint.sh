#!/bin/bash
# Refuses to start on a configuration or key OpenDKIM rejects, with the reason on stderr.
set -euo pipefail

fail() { echo "mailstack-opendkim: refusing to start: $*" >&2; exit 78; }

conf=/etc/opendkim/opendkim.conf
[ -s "$conf" ] || fail "$conf is missing or empty"

# Keys arrive by upload as root; OpenDKIM (RequireSafeKeys) wants them owned by its user, 0600.
shopt -s nullglob
for key in /etc/opendkim/keys/*.private; do
  chown postfix:postfix "$key"
  chmod 0600 "$key"
  grep -q "BEGIN RSA PRIVATE KEY\|BEGIN PRIVATE KEY" "$key" || fail "$key is not a PEM private key"
done
chown postfix:postfix /etc/opendkim/keys

# OpenDKIM logs only to syslog: a small syslogd hands its lines to the container log.
busybox syslogd -n -O /proc/1/fd/1 -S &

if ! report=$(opendkim -n -x "$conf" 2>&1); then fail "opendkim -n: $report"; fi
[ -z "$report" ] || fail "opendkim -n: $report"

# The socket volume belongs to postfix (its entrypoint does the same); OpenDKIM runs as postfix's uid.
chown postfix:postfix /run/mailstack/sockets
rm -f /run/mailstack/sockets/opendkim.sock
exec "$@"
