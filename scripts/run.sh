#!/usr/bin/env bash
# make run: set up the embedded system (SQLite and local files under ./var) and run it in one process.
# Where this machine can run Asterisk (root; a Debian sid chroot is built and cached on first use), the
# switch comes up too, with the IVR's FastAGI server, so a SIP softphone can dial 12345.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export HOTLINE_DATA_DIR="${HOTLINE_DATA_DIR:-var}"
mkdir -p "$HOTLINE_DATA_DIR"

$BIN/hotline db upgrade
$BIN/hotline seed
$BIN/hotline kb load            # the knowledge base's Haikou seed articles (idempotent: by key)
# A living history for a newcomer: HOTLINE_DEMO_DAYS=90 make run writes 90 days of Haikou-shaped demo calls
# and orders (marked as demo; `hotline demo remove` deletes them). HOTLINE_DEMO_SCALE=1.0 is Haikou's full
# ~5,200 calls a day (minutes to generate); the default 0.25 takes about two minutes for 90 days.
if [ -n "${HOTLINE_DEMO_DAYS:-}" ]; then
  $BIN/hotline demo generate --days "$HOTLINE_DEMO_DAYS" --scale "${HOTLINE_DEMO_SCALE:-0.25}"
fi
# Demo accounts, one per role, printed once. In development they share a documented demo password.
if [ "${HOTLINE_ENVIRONMENT:-development}" = development ]; then
  $BIN/hotline users demo --fixed
else
  $BIN/hotline users demo
fi

# Everything below runs in this shell's foreground: Ctrl-C stops the hotline's roles (they stop in order),
# then the trap stops the switch this run started or adopted. Nothing is left behind for the next run.
ASTERISK_UP=0
cleanup() {
  if [ "$ASTERISK_UP" = 1 ]; then $BIN/hotline asterisk down || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -eq 0 ] && command -v debootstrap >/dev/null; then
  export HOTLINE_IVR_SOUNDS="$HOTLINE_DATA_DIR/ivr-sounds"
  $BIN/hotline ivr prompts --out "$HOTLINE_IVR_SOUNDS" || echo "IVR prompts could not be generated (espeak-ng, sox?)"
  # `asterisk up` adopts a switch an earlier run left behind (reloading its configuration) and says so.
  if $BIN/hotline asterisk up; then
    ASTERISK_UP=1
    export HOTLINE_TELEPHONY_ENABLED=true
    # Answered calls are transcribed live: Whisper base re-decodes each utterance in Mandarin (packaged
    # with the project's "whisper" extra; local files only).
    export HOTLINE_ASR_SECOND_PASS="${HOTLINE_ASR_SECOND_PASS:-true}"
    export HF_HUB_OFFLINE=1
    # SIP accounts for the demo desk agents (SIP user = desk user) and how to dial in.
    $BIN/hotline asterisk demo-agents
    echo "坐席须在工作台点“就绪”后才会振铃 / the agent must be ready (就绪) on the desk before the phone rings."
  else
    echo "Asterisk did not start; the web desk runs without telephony."
  fi
else
  echo "Not root or no debootstrap: running without Asterisk (the web desk and APIs work without it)."
fi

echo
echo "Web desk / 工作台: http://127.0.0.1:${HOTLINE_HTTP_PORT:-8000}/   API docs: http://127.0.0.1:${HOTLINE_HTTP_PORT:-8000}/docs"
# Every role in this one process: web, scheduler, and with the switch telephony, campaign, IVR and one ASR
# worker (on the in-process bus; more workers, here or elsewhere, with `hotline run asr` and the broker).
$BIN/hotline run all
