#!/usr/bin/env bash
# The Switchboard image (Containerfile) with podman or buildah.
#   infra/image.sh build      build $IMAGE (default localhost/switchboard:latest)
#   infra/image.sh base       only make the local Debian base (mmdebstrap), if missing
#   infra/image.sh builder    print the builder that would be used (exit 1 if none)
# BASE_IMAGE=<ref> builds FROM that (e.g. your registry's debian:bookworm-slim@sha256:...).
# Without it, the base is made here from the Debian mirror with mmdebstrap (no registry needed)
# and tagged $LOCAL_BASE. As root on Debian, podman/buildah/mmdebstrap are installed when missing.
# Builds use chroot isolation, the one that works in VMs and containers without user namespaces.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

IMAGE="${IMAGE:-localhost/switchboard:latest}"
LOCAL_BASE="${LOCAL_BASE:-localhost/switchboard-base:bookworm-slim}"
SUITE=bookworm

builder() {
  if command -v podman >/dev/null 2>&1; then echo podman
  elif command -v buildah >/dev/null 2>&1; then echo buildah
  else return 1; fi
}

ensure_builder() {
  builder >/dev/null && return 0
  log "no podman or buildah: installing them from Debian"
  apt_install podman buildah || { log "install podman or buildah (apt-get install podman buildah)"; return 1; }
}

image_exists() { "$(builder)" image exists "$1" 2>/dev/null || "$(builder)" inspect --type image "$1" >/dev/null 2>&1; }

mirrors() { # the apt sources of this machine, for mmdebstrap (one-line form)
  local uri
  uri="$( (grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security;
           grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security) | head -1)"
  uri="${uri:-http://deb.debian.org/debian}"
  echo "deb $uri $SUITE main"
  echo "deb $uri $SUITE-updates main"
  echo "deb ${uri%/debian}/debian-security $SUITE-security main"
}

base() {
  image_exists "$LOCAL_BASE" && return 0
  command -v mmdebstrap >/dev/null || apt_install mmdebstrap ||
    { log "mmdebstrap is needed to make the base locally, or set BASE_IMAGE"; return 1; }
  local tar; tar="$(mktemp -d)/rootfs.tar"
  log "making the Debian $SUITE base with mmdebstrap (about a minute, once)"
  local -a sources; mapfile -t sources < <(mirrors)
  # As debian:*-slim: minbase, without manuals, translations and docs (copyright notices kept).
  # merged /usr made by mmdebstrap's hook rather than the usrmerge package (which pulls in perl).
  mmdebstrap --quiet --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    "$SUITE" "$tar" "${sources[@]}"
  "$(builder)" import "$tar" "$LOCAL_BASE" >/dev/null
  rm -rf "$(dirname "$tar")"
}

build() {
  ensure_builder
  local from="${BASE_IMAGE:-}"
  if [ -z "$from" ]; then base; from="$LOCAL_BASE"; fi
  log "building $IMAGE with $(builder) from $from"
  local start=$SECONDS previous
  previous="$("$(builder)" images -q "$IMAGE" 2>/dev/null || true)"
  # The CA bundle this machine trusts (pip's and npm's downloads may go through a re-signing
  # proxy), given to the build as a secret: used by pip and npm, never stored in the image.
  local ca="${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
  local -a args=(--isolation chroot --build-arg "BASE_IMAGE=$from" --secret "id=build-ca,src=$ca"
    -f "$SWITCHBOARD_ROOT/Containerfile" -t "$IMAGE" "$SWITCHBOARD_ROOT")
  case "$(builder)" in
    podman) podman build "${args[@]}" ;;
    buildah) buildah bud "${args[@]}" ;;
  esac
  # The image this tag named before is now untagged: drop it (its shared layers stay), so that
  # rebuilding after each change does not fill the disk. The build stages' cache is kept.
  local now; now="$("$(builder)" images -q "$IMAGE" 2>/dev/null || true)"
  if [ -n "$previous" ] && [ "$previous" != "$now" ]; then "$(builder)" rmi "$previous" >/dev/null 2>&1 || true; fi
  local size
  size="$("$(builder)" image inspect --format '{{.Size}}' "$IMAGE" 2>/dev/null || echo 0)"
  log "built $IMAGE in $((SECONDS - start)) s, $((size / 1000000)) MB"
}

case "${1:-build}" in
  build) build ;;
  base) ensure_builder; base ;;
  builder) builder ;;
  *) echo "usage: $0 build|base|builder" >&2; exit 2 ;;
esac
