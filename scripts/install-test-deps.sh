#!/usr/bin/env bash
# Installs the Debian packages the integration and client tests run for real (see
# test/helpers/README.md). Idempotent: when every package is already installed it does nothing,
# so a re-run costs a few dpkg-query calls. It starts no service.
set -euo pipefail

PACKAGES=(
  docker-registry skopeo umoci jq
  podman buildah containerd docker.io crun runc fuse-overlayfs
  apache2-utils busybox-static
  postgresql openssl iproute2 nginx
  chromium
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-test-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "install-test-deps: missing ${missing[*]} and not root (no sudo)" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

echo "install-test-deps: installing ${missing[*]}"

# Debian's maintainer scripts start services (postgresql, docker, containerd) through
# invoke-rc.d unless policy-rc.d says no (exit 101 = action forbidden, see invoke-rc.d(8)).
# The tests start their own private daemons; install one policy file for the run and remove it
# only if we created it.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi
cleanup() {
  if [[ $created_policy -eq 1 ]]; then "${SUDO[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"
echo "install-test-deps: done"
