#!/usr/bin/env bash
# Lists and replays messages that reached a RabbitMQ `_error` queue, through the management API.
#
#   infra/errors.sh list                 every _error queue with messages, and a line per message
#                                        (message type, the fault's exception and message, when)
#   infra/errors.sh replay QUEUE [N]     move up to N (default all) messages from QUEUE_error back to QUEUE,
#                                        headers and body unchanged; QUEUE may be given with or without _error
#
# Uses the broker of infra/common.sh (BUS_RABBIT_MGMT_PORT, BUS_RABBIT_USER/PASS, BUS_RABBIT_VHOST).
# A replayed message is handled as if it were new; every message the services exchange is safe to repeat.
set -euo pipefail
# shellcheck source=infra/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

API="http://127.0.0.1:$BUS_RABBIT_MGMT_PORT/api"
VHOST="$(jq -rn --arg v "$BUS_RABBIT_VHOST" '$v|@uri')"

mgmt() { # <method> <path> [json body]
  curl -fsS --max-time 30 -u "$BUS_RABBIT_USER:$BUS_RABBIT_PASS" -X "$1" -H 'content-type: application/json' \
    "$API$2" ${3:+-d "$3"}
}

# Takes up to N messages off a queue (the broker removes them), as JSON.
take() { # <queue> <count>
  mgmt POST "/queues/$VHOST/$(jq -rn --arg q "$1" '$q|@uri')/get" \
    "{\"count\":$2,\"ackmode\":\"ack_requeue_false\",\"encoding\":\"auto\"}"
}

cmd_list() {
  local queue messages count found=0
  # Every _error queue, looked into (the management API's message counts lag by seconds). Messages are looked at
  # without taking them: the broker puts them back at the head of the queue.
  for queue in $(mgmt GET "/queues/$VHOST?columns=name" | jq -r '.[].name | select(endswith("_error"))'); do
    messages="$(mgmt POST "/queues/$VHOST/$(jq -rn --arg q "$queue" '$q|@uri')/get" \
      '{"count":10000,"ackmode":"ack_requeue_true","encoding":"auto"}')"
    count="$(jq 'length' <<<"$messages")"
    ((count > 0)) || continue
    found=1
    echo "$queue: $count messages"
    jq -r '.[] | .properties.headers as $h
      | "  \($h["MT-Host-MachineName"] // "?") \($h["MT-Fault-Timestamp"] // "") \(($h["MT-MessageType"] // $h["MT-Fault-MessageType"] // .properties.type // "?") | tostring | split(":") | last)  \($h["MT-Fault-ExceptionType"] // "")  \(($h["MT-Fault-Message"] // "") | tostring | .[0:160])"' <<<"$messages"
  done
  ((found)) || echo "no messages in any _error queue"
}

cmd_replay() {
  local queue="${1:?usage: infra/errors.sh replay QUEUE [N]}" limit="${2:-}" moved=0
  queue="${queue%_error}"
  limit="${limit:-1000000000}"
  while ((moved < limit)); do
    local batch=$((limit - moved > 100 ? 100 : limit - moved)) messages count
    messages="$(take "${queue}_error" "$batch")"
    count="$(jq 'length' <<<"$messages")"
    ((count > 0)) || break
    for ((i = 0; i < count; i++)); do
      # The default exchange routes by queue name; the fault headers are dropped so a second fault reads clearly.
      local body
      body="$(jq -c --argjson i "$i" --arg q "$queue" '.[$i] | {
          properties: (.properties | .headers = ((.headers // {}) | with_entries(select(.key | startswith("MT-Fault-") | not)))),
          routing_key: $q, payload: .payload, payload_encoding: .payload_encoding }' <<<"$messages")"
      [[ "$(mgmt POST "/exchanges/$VHOST/amq.default/publish" "$body" | jq -r '.routed')" == true ]] ||
        { echo "replaying into $queue failed: the queue does not exist" >&2; exit 1; }
    done
    moved=$((moved + count))
  done
  echo "replayed $moved messages from ${queue}_error to $queue"
}

case "${1:-}" in
  list) cmd_list ;;
  replay) shift; cmd_replay "$@" ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
