#!/usr/bin/env bash
# schemathesis against the running server (contract §9.3): the document the server serves at
# /openapi.json, every default check but positive_data_acceptance (the document's description
# says why), the examples, coverage, fuzzing and stateful phases, 500 examples per operation,
# once on --memory and once on a SQLite file, with fixture data whose key authenticates; then a
# shorter run on memory with --rate-limit 20, so that the 429 answers and the RateLimit fields
# are held to the document too. Exits non-zero when any run finds a failure.
#
#   scripts/schemathesis.sh                 # debug build of dam-server
#   DAM_ST_PROFILE=release scripts/schemathesis.sh
#   DAM_ST_MAX_EXAMPLES=50 scripts/schemathesis.sh   # a quicker look while iterating
#
# schemathesis lives in a virtual environment under target/ (cached, ignored by git), pinned.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
PROFILE=${DAM_ST_PROFILE:-debug}
MAX_EXAMPLES=${DAM_ST_MAX_EXAMPLES:-500}
FIXTURE=scripts/schemathesis/fixture.json
KEY=st-acme-key

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ "$PROFILE" = release ]; then
  cargo build --release -p dam-server
else
  cargo build -p dam-server
fi
BINARY="target/$PROFILE/dam-server"

SCRATCH=$(mktemp -d)
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap 'stop_server; rm -rf "$SCRATCH"' EXIT

# Starts the server with the given store options on a free port; sets BASE_URL.
start_server() {
  local out="$SCRATCH/stdout"
  : >"$out"
  "$BINARY" --listen 127.0.0.1:0 --fixtures "$FIXTURE" "$@" >"$out" 2>"$SCRATCH/stderr" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$out"; then
      BASE_URL=$(sed -n 's/^listening on //p' "$out")
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "dam-server did not start:" >&2
  cat "$SCRATCH/stderr" >&2
  return 1
}

failed=0
for store in memory sqlite rate-limited; do
  examples=$MAX_EXAMPLES
  case $store in
    memory) start_server --memory ;;
    sqlite) start_server --database "$SCRATCH/dam.sqlite3" ;;
    rate-limited)
      start_server --memory --rate-limit 20
      examples=$(( MAX_EXAMPLES < 100 ? MAX_EXAMPLES : 100 ))
      ;;
  esac
  echo "== schemathesis: $store ($BASE_URL)"
  if ! (cd "$SCRATCH" && "$OLDPWD/$VENV/bin/st" run "$BASE_URL/openapi.json" \
      --header "X-API-KEY: $KEY" \
      --phases examples,coverage,fuzzing,stateful \
      --max-examples "$examples" \
      --exclude-checks positive_data_acceptance \
      --wait-for-schema 30); then
    echo "== schemathesis found failures: $store" >&2
    failed=1
  fi
  stop_server
  rm -f "$SCRATCH"/dam.sqlite3*
done
exit $failed
