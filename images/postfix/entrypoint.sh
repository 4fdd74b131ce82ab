#!/bin/bash
# Refuse to start on a configuration postfix rejects or warns about, with the
# reason on stderr: a container that exits beats one that half works.
set -euo pipefail

fail() { echo "mailstack-postfix: refusing to start: $*" >&2; exit 78; }

[ -s /etc/postfix/main.cf ] || fail "/etc/postfix/main.cf is missing or empty"

# A certificate that is missing, unreadable or not matching its key would leave
# TLS silently off (postfix) or fail at the first client (dovecot): check now.
cert=/etc/mailstack/tls/fullchain.pem key=/etc/mailstack/tls/privkey.pem
[ -s "$cert" ] || fail "TLS certificate $cert is missing or empty"
[ -s "$key" ] || fail "TLS private key $key is missing or empty"
certpub=$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null) || fail "TLS certificate $cert is not a PEM certificate"
keypub=$(openssl pkey -in "$key" -pubout 2>/dev/null) || fail "TLS private key $key is not a PEM private key"
[ "$certpub" = "$keypub" ] || fail "TLS private key $key does not belong to the certificate $cert"
chmod 0600 "$key"

# The queue volume may be new (empty) or from an older image: fix ownership.
postfix set-permissions >/dev/null 2>&1 || true
# The shared socket volume (dovecot, opendkim) is mounted inside private/, which postfix checks.
chown postfix:postfix /var/spool/postfix/private/mailstack
# ...and so is the directory acknowledgement there (below), which postfix check looks at too.
[ ! -e /var/spool/postfix/private/mailstack/directory-applied ] || chown postfix:postfix /var/spool/postfix/private/mailstack/directory-applied

if ! warnings=$(postconf -n 2>&1 >/dev/null); then fail "postconf: $warnings"; fi
[ -z "$warnings" ] || fail "postconf: $warnings"
if ! report=$(postfix check 2>&1); then fail "postfix check: $report"; fi
[ -z "$report" ] || fail "postfix check: $report"

# A stale pid file from a killed container would stop postfix from starting.
rm -f /var/spool/postfix/pid/master.pid

# The mail directory (maps of domains, mailboxes, aliases, logins) is published by the
# directory container into a read-only volume. Postfix reads these maps when its
# processes start, so each newly published serial gets a `postfix reload`; the serial
# loaded is written every second for the directory container's health check.
directory=/etc/postfix/directory applied=/var/spool/postfix/private/mailstack/directory-applied
[ -s "$directory/serial" ] || fail "the mail directory is not published in $directory (the directory container publishes it)"
watch_directory() {
  local loaded=$1 serial
  set +e # a hiccup here must not end the watcher
  while sleep 1; do
    serial=$(cat "$directory/serial" 2>/dev/null) || continue
    if [ "$serial" != "$loaded" ] && postfix reload >/dev/null 2>&1; then
      # The master restarts its processes once it has taken the signal: a second before saying so.
      sleep 1
      loaded=$serial
    fi
    # Owned by postfix, as postfix check wants everything under private/.
    echo "$loaded" >"$applied.new" && chown postfix:postfix "$applied.new" && mv -f "$applied.new" "$applied"
  done
}
# Read before postfix starts: the maps it loads are this serial's or newer ones.
watch_directory "$(cat "$directory/serial")" &

exec "$@"
