#!/usr/bin/env bash
# The test run. Under CI (CI=true) the real dependencies are required: a skipped PostgreSQL, Asterisk,
# Vosk, browser or sound test fails the run instead of passing silently (see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = "true" ] && [ -z "${HOTLINE_REQUIRE:-}" ]; then
  export HOTLINE_REQUIRE="postgres,broker,asterisk,sound,browser,vosk"
fi
# The Asterisk chroot: built once with debootstrap (~1 min) and cached as a tarball outside the clone
# (/var/cache/hotline); unpacked in about a second afterwards. Only root can build or run it.
if [ "$(id -u)" -eq 0 ] && command -v debootstrap >/dev/null; then
  .venv/bin/hotline asterisk provision
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
