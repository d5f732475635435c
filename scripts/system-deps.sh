#!/usr/bin/env bash
# Installs the Debian packages voice_agent's tests use, when run as root and missing.
# Non-root users get a list of what to install instead of a failure.
set -euo pipefail
packages=(espeak-ng sox postgresql chromium baresip sip-tester kamailio nginx haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "voice_agent: missing Debian packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "voice_agent: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
