#!/usr/bin/env bash
# Prints one plain line "N passed, N failed" (and skipped) summed over the .trx files dotnet test wrote.
# CI reads this line; dotnet test's own summary is not recognised there.
set -euo pipefail
dir="${1:?usage: summarize-trx.sh <results folder>}"
passed=0 failed=0 skipped=0
shopt -s nullglob
for trx in "$dir"/*.trx; do
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -1)"
  value() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$counters"; }
  total=$(value total); executed=$(value executed); ok=$(value passed)
  passed=$((passed + ok))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + total - executed))
done
echo "$passed passed, $failed failed, $skipped skipped"
