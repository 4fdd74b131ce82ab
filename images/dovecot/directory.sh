#!/bin/bash
# The mail directory container (constructs/mail-directory.ts), on the dovecot
# image for its dovecot group. `publish` copies the uploaded postfix maps and
# passwd-file into the daemons' directory volumes, each file replaced whole and
# the serial last; `serve` publishes, then idles. `check`, its health check,
# passes once both volumes hold exactly the upload and a running postfix has
# reloaded it.
set -euo pipefail
upload=/etc/mailstack/directory published=/var/lib/mailstack/directory
applied=/run/mailstack/sockets/directory-applied

# A digest of one daemon's uploaded files, names included.
serial() { (cd "$upload/$1" && sha256sum -- * | sha256sum | cut -c1-64); }

publish() { # daemon owner group mode
  local from=$upload/$1 to=$published/$1 f name
  for f in "$from"/*; do
    name=${f##*/}
    install -o "$2" -g "$3" -m "$4" "$f" "$to/.$name.new"
    mv -f "$to/.$name.new" "$to/$name"
  done
  for f in "$to"/*; do
    name=${f##*/}
    [ "$name" = serial ] || [ -e "$from/$name" ] || rm -f "$f"
  done
  serial "$1" >"$to/.serial.new"
  mv -f "$to/.serial.new" "$to/serial"
}

case "${1:-}" in
  publish | serve)
    # The passwd-file goes first: by the time postfix accepts a new address, dovecot knows it.
    publish dovecot root dovecot 0640
    publish postfix root root 0644
    echo "mailstack-directory: published postfix $(cat "$published/postfix/serial"), dovecot $(cat "$published/dovecot/serial")"
    [ "$1" = serve ] || exit 0
    trap 'exit 0' TERM INT
    while :; do sleep 3600 & wait $!; done
    ;;
  check)
    for daemon in dovecot postfix; do
      [ "$(cat "$published/$daemon/serial" 2>/dev/null)" = "$(serial "$daemon")" ] || { echo "not yet published for $daemon"; exit 1; }
    done
    # Postfix refreshes its acknowledgement every second while it runs; an older one is from a postfix that is gone.
    if [ -e "$applied" ] && [ $(($(date +%s) - $(stat -c %Y "$applied"))) -le 5 ]; then
      got=$(cat "$applied")
      [ "$got" = "$(cat "$published/postfix/serial")" ] || { echo "postfix has not reloaded the directory yet (it has $got)"; exit 1; }
    fi
    echo "published and loaded"
    ;;
  *)
    echo "usage: directory.sh publish|serve|check" >&2
    exit 64
    ;;
esac
