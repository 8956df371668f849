#!/usr/bin/env bash
# Debian packages the system and its tests use. Installs what is missing when run as root;
# otherwise lists it (the tests that need it then skip, each with its reason).
set -euo pipefail
PACKAGES=(
  debootstrap zstd            # the Asterisk 22 chroot (Debian sid) on bookworm
  sip-tester baresip-core     # real SIP user agents for the call tests (sipp, baresip)
  sox espeak-ng ffmpeg        # prompts (text to speech), audio conversion, Opus/GSM compression
  libportaudio2 alsa-utils libsndfile1   # sounddevice (PortAudio) on ALSA virtual devices
  chromium chromium-driver fonts-wqy-microhei   # the browser tests (a CJK font for screenshots)
  wrk                         # HTTP load for the benchmarks
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: not root; missing Debian packages (tests that need them will skip): ${missing[*]}" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
