#!/usr/bin/env bash
# The software behind the sample speech service (samples/tts-server): Debian's espeak-ng, which synthesizes speech
# for the languages it has voices for. `./bus test` and `./bus up --speech` run it.
#
#   infra/speech.sh install   install espeak-ng if it is missing (idempotent; quick when it is there)
set -euo pipefail
LOG_TAG=speech
# shellcheck source=infra/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install() {
  command -v espeak-ng >/dev/null 2>&1 && return 0
  [[ $EUID -eq 0 ]] || die "espeak-ng is missing, and installing it needs root"
  log "installing espeak-ng"
  local out
  # Another apt-get (infra/up.sh, a second checkout) may hold the lock: wait for it rather than fail.
  out="$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends espeak-ng 2>&1)" || {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    out="$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends espeak-ng 2>&1)" \
      || { printf '%s\n' "$out" | tail -n 30 >&2; exit 1; }
  }
  log "espeak-ng $(espeak-ng --version | awk '{print $4; exit}') installed"
}

case "${1:-}" in
  install) install ;;
  *) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
