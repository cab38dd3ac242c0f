#!/usr/bin/env bash
# Unpacks Debian's Cyrus IMAP into a private directory (default: .cyrus/ in the repo) for the
# tests that run against a second real server (test/cyrus.test.ts, src/sandbox/cyrus-server.ts).
# `apt-get install cyrus-imapd` would remove dovecot-imapd (the packages conflict), so only the
# libraries Cyrus needs and sasl2-bin (saslpasswd2) are installed; the Cyrus packages themselves
# are downloaded and unpacked with dpkg-deb, never installed. Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${MAILFERRY_CYRUS_DIR:-$PWD/.cyrus}
master="$dest/usr/lib/cyrus/bin/master"

# What the unpacked imapd, master and ctl_cyrusdb link against beyond a Dovecot machine's libraries.
libs=(sasl2-bin libsasl2-modules libical3 libpcre3 libxapian30)

sudo=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo=(sudo); fi
missing=()
for p in "${libs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] && [ ${#sudo[@]} -eq 0 ]; then
    echo "install-cyrus: please install ${missing[*]} (apt-get install -y ${missing[*]}) and run this again" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

if [ -x "$master" ] && [ -f "$dest/.complete" ]; then
  echo "install-cyrus: Cyrus is unpacked in $dest"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download fetches as _apt where it can write the directory (else it warns and fetches as us).
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
download() { (cd "$tmp" && apt-get download -qq cyrus-imapd cyrus-common); }
# A fresh machine may have no package lists yet.
download || { "${sudo[@]}" apt-get update -qq && download; }
rm -rf "$dest"
mkdir -p "$dest"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
# The binaries find their own libraries (libcyrus*.so) there through LD_LIBRARY_PATH.
libdir=$(dirname "$(find "$dest/usr/lib" -name 'libcyrus.so.0' | head -n 1)")
if LD_LIBRARY_PATH="$libdir" ldd "$dest/usr/lib/cyrus/bin/imapd" | grep 'not found' >&2; then
  echo "install-cyrus: imapd still misses the libraries above" >&2
  exit 1
fi
dpkg-deb -f "$tmp"/cyrus-imapd_*.deb Version >"$dest/.complete"
echo "install-cyrus: Cyrus $(cat "$dest/.complete") unpacked in $dest"
