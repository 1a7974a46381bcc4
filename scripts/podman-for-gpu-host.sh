#!/usr/bin/env bash
# Downloads Debian bookworm's Podman, with what it needs at run time that a GPU host may lack, as
# .deb files into DIR (default target/podman-debs), for hosts without a container engine or a
# network (make podman-debs). scripts/gpu-host-engine.sh unpacks and starts them there.
#
#   scripts/podman-for-gpu-host.sh [DIR]
#
# The packages: podman 4.3, conmon, runc (the runtime; crun is not used), the containers' default
# configuration (seccomp profile, signature policy), and the shared libraries these three programs
# link beyond glibc. Bookworm's glibc is 2.36, so they run on any host with glibc 2.36 or newer
# (Ubuntu 24.04 has 2.39). About 20 MB.
set -euo pipefail
out=${1:-target/podman-debs}
readonly PACKAGES=(
  podman conmon runc golang-github-containers-common golang-github-containers-image
  # podman
  libsubid4 libgpgme11 libassuan0 libgpg-error0 libseccomp2 libdevmapper1.02.1 libudev1
  libaudit1 libcap-ng0 libselinux1 libsemanage2 libsemanage-common libsepol2 libpcre2-8-0 libbz2-1.0
  libpam0g libcrypt1
  # conmon
  libglib2.0-0 libsystemd0 libcap2 libgcrypt20 liblzma5 libzstd1 liblz4-1
)
command -v apt-get >/dev/null || { echo "error: apt-get is needed (a Debian bookworm host)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
# apt-get download writes into the current folder.
(cd "$out" && apt-get download -qq -o APT::Sandbox::User=root "${PACKAGES[@]}")
ls "$out"/*.deb | wc -l | xargs echo "packages:"
du -sh "$out"
