#!/usr/bin/env bash
# Build ctrlab's base image from Debian packages, with no image registry: debootstrap a minimal
# bookworm root file system (python3 + venv for the simulators, nftables for the netlab's kernel
# firewall, ca-certificates for pip) and `docker import` it as ctrlab/base:<hash>.
#
# <hash> is the first 12 hex digits of this script's sha256: the script is the image's only input,
# so the tag changes exactly when the recipe does (harness/backends/docker.py computes the same tag).
# Already built: prints the tag and exits. Prints the tag on stdout as its last line.
#
# Usage: build_base.sh [--force]    (root, debootstrap and a running docker daemon)
# Env:   CTRLAB_DEBIAN_MIRROR  default: the first URI of the machine's apt sources, else deb.debian.org
set -euo pipefail

SUITE=bookworm
PACKAGES=python3,python3-venv,nftables,ca-certificates
here=$(cd "$(dirname "$0")" && pwd)
hash=$(sha256sum "$here/build_base.sh" | cut -c1-12)
tag="ctrlab/base:$hash"

if [[ "${1:-}" != "--force" ]] && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

# The machine's configured apt source (deb822 or one-line format), so the build uses the same mirror.
mirror=${CTRLAB_DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
  mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | head -n1 | awk '{print $2}' || true)
fi
if [[ -z "$mirror" ]]; then
  mirror=$(grep -hsE '^deb ' /etc/apt/sources.list | grep -v security | head -n1 | awk '{print $2}' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d /tmp/ctrlab-base.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
started=$(date +%s)
echo "build_base: debootstrap $SUITE from $mirror into $rootfs" >&2
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >&2

# Smaller image, nothing machine-specific inside: no apt caches, docs or the build host's resolv.conf.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
       "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
: > "$rootfs/etc/resolv.conf"

tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL org.ctrlab.base.hash=$hash org.ctrlab.base.suite=$SUITE" \
  - "$tag" >&2
echo "build_base: $tag built in $(( $(date +%s) - started )) s" >&2
echo "$tag"
