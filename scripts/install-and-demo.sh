#!/usr/bin/env bash
# Installs what mailferry and its tests need, then migrates the sample account of a private
# sandbox Dovecot into its empty second account, twice (the rerun copies nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The tests also render the man page (groff) and run the zsh completion script.
command -v groff >/dev/null 2>&1 || missing+=(groff-base)
command -v zsh >/dev/null 2>&1 || missing+=(zsh)
# The distributed-queue tests start a private redis-server.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=()
  elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
  else
    echo "mailferry: please install ${missing[*]} (Debian/Ubuntu: apt-get install -y ${missing[*]}) and run this again" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# node itself, not npx: $pid must be the sandbox, whose SIGTERM handler stops its Dovecot (killing
# npx would leave both running).
node dist/bin/main.js sandbox --env-out "$tmp/env" >"$tmp/sandbox.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  [ -s "$tmp/env" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/sandbox.log" >&2; exit 1; }
  sleep 0.25
done
[ -s "$tmp/env" ] || { echo "mailferry: the sandbox did not start" >&2; cat "$tmp/sandbox.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$tmp/env"
demo() {
  node dist/bin/main.js migrate --from "$MAILFERRY_SANDBOX_FROM" --to "$MAILFERRY_SANDBOX_TO" --state "$tmp/state.sqlite"
}
echo "== demo: migrate alice -> bob on the sandbox Dovecot"
demo
echo "== demo: the same command again copies nothing"
demo
