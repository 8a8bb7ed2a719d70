#!/usr/bin/env bash
# Installs the Debian packages a target needs when they are missing.
# Usage: scripts/deps.sh build|test|fuzz|bench
# Runs as root on a fresh Debian 12 machine; does nothing when all is present.
set -euo pipefail

build=(gcc make pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libssl-dev
       libcurl4-openssl-dev libgnutls28-dev libyaml-dev xxd)
# chromium and a CJK font: the console's browser tests and their screenshots
test=(libcriterion-dev curl sqlite3 openssl libfaketime chromium fonts-wqy-microhei)
fuzz=(clang libclang-rt-14-dev)
bench=(nginx-light wrk util-linux sqlite3 bc curl)

want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test[@]}") ;;
  fuzz) want+=("${fuzz[@]}") ;;
  bench) want+=("${bench[@]}") ;;
  *) echo "usage: $0 build|test|fuzz|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs only where no node is on the PATH.
if [ "${1:-build}" = test ] && ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
# npm installs the browser tests' playwright-core from their lockfile.
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
