#!/usr/bin/env bash
# Prints one plain line "N passed, N failed" (and skipped) summed over the .trx files dotnet test wrote.
# CI reads this line; dotnet test's own summary is not recognised there. Before it, each failed test's name and the
# first lines of its message, so that the end of a log, which is often all that is kept, says what failed.
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
  # A failed result's element carries its name; its message follows on the next lines, up to </Message>.
  awk '
    /<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); print "FAILED " substr($0, RSTART + 10, RLENGTH - 11); inside = 1; lines = 0; next }
    inside && /<Message>/ { message = 1; sub(/.*<Message>/, "") }
    inside && message { done = sub(/<\/Message>.*/, ""); if (lines++ < 8) print "  " $0; if (done) { inside = 0; message = 0 } }
  ' "$trx" | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
done
echo "$passed passed, $failed failed, $skipped skipped"
