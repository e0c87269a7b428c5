#!/usr/bin/env bash
# Debian's Chromium, for the dashboard's browser test (tests/Bus.SystemTests/Dashboard/DashboardBrowserTests.cs), which
# drives it with Microsoft.Playwright. Playwright's own browser download cannot be used here, so the test points
# Playwright at this binary instead.
#
#   infra/browser.sh install   install the package if it is missing (idempotent; quick when installed)
#   infra/browser.sh path      print the browser's path
set -euo pipefail
LOG_TAG=browser
# shellcheck source=infra/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CHROMIUM=/usr/bin/chromium

install() {
  [[ -x "$CHROMIUM" ]] && return 0
  log "installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
}

case "${1:-}" in
  install) install ;;
  path) echo "$CHROMIUM" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
