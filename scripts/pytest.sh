#!/usr/bin/env bash
# The test run. Under CI (CI=true) the real dependencies are required: a skipped PostgreSQL, Asterisk,
# Vosk, browser or sound test fails the run instead of passing silently (see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = "true" ] && [ -z "${HOTLINE_REQUIRE:-}" ]; then
  export HOTLINE_REQUIRE="postgres,sound"
fi
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
