#!/usr/bin/env bash
# Prepare a fresh Debian bookworm machine (root, no systemd) for the test suite:
# a running Docker engine and a local base image. Safe to run repeatedly.
set -euo pipefail

BASE_IMAGE_TAG="${BASE_IMAGE_TAG:-debian:bookworm-slim}"
export DEBIAN_FRONTEND=noninteractive

log() { echo "ensure-docker: $*"; }

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian mirror for the "bookworm" suite from the apt config, so debootstrap goes
# where this machine is known to reach. Only *.list/*.sources are read, as apt does.
debian_mirror() {
  local files=()
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk '
    # one-line format: deb [options] URI SUITE COMPONENTS...
    /^deb[ \t]/ {
      i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i+1) == "bookworm") { print $i; exit }
    }
    # deb822 format: stanzas separated by blank lines
    /^URIs:/    { uri = $2 }
    /^Suites:/  { for (j = 2; j <= NF; j++) if ($j == "bookworm") hit = 1 }
    /^[ \t]*$/  { if (hit && uri) { print uri; exit } uri = ""; hit = 0 }
    END         { if (hit && uri) print uri }
  ' "${files[@]}" | head -n1
}

# --- engine ---------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  log "docker engine already running"
else
  # /usr/local/bin/docker may be a bare CLI; the engine comes from docker.io.
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io"
    apt_install docker.io
  fi
  log "starting dockerd (log: /tmp/dockerd.log)"
  # No systemd here, so run the daemon detached ourselves.
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    log "dockerd did not come up within 60s; tail of /tmp/dockerd.log:" >&2
    tail -n 20 /tmp/dockerd.log >&2 || true
    exit 1
  fi
  log "docker engine is up"
fi

# --- base image -----------------------------------------------------------
if docker image inspect "$BASE_IMAGE_TAG" >/dev/null 2>&1; then
  log "image $BASE_IMAGE_TAG already present"
else
  # No container registry is reachable, so build the base image from the Debian mirror.
  command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap"; apt_install debootstrap; }
  mirror="$(debian_mirror || true)"
  dir="$(mktemp -d /tmp/rootfs.XXXXXX)"
  trap 'rm -rf "$dir"' EXIT
  log "debootstrapping bookworm ${mirror:-(default mirror)} into $dir"
  debootstrap --variant=minbase bookworm "$dir" ${mirror:+"$mirror"} >/tmp/debootstrap.log 2>&1 \
    || { log "debootstrap failed; tail of /tmp/debootstrap.log:" >&2; tail -n 20 /tmp/debootstrap.log >&2; exit 1; }
  log "importing rootfs as $BASE_IMAGE_TAG"
  tar -C "$dir" -c . | docker import - "$BASE_IMAGE_TAG" >/dev/null
  rm -rf "$dir"
  trap - EXIT
  log "image $BASE_IMAGE_TAG built"
fi

# --- ssh client -------------------------------------------------------------
# ssh:// engines are reached with the system ssh client (as the docker provider does); the e2e tests use it and ssh-keygen.
if ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
  log "installing openssh-client"
  apt_install openssh-client
fi

# --- testssl.sh ---------------------------------------------------------------
# The TLS scan (test/e2e/tls-scan.test.ts) runs Debian's testssl.sh against every listener.
if ! command -v testssl >/dev/null 2>&1; then
  log "installing testssl.sh"
  apt_install testssl.sh
fi
