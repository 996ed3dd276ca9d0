#!/usr/bin/env bash
# Benchmarks for the release build (run by `make bench` after `make build`): cold start to /readyz,
# SSR throughput beside a static handler serving the same bytes, and the gzip size of what a
# browser downloads. Traffic goes to 127.0.0.1 only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/portolan
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/portolan"
SITE=target/site
PORT="${PORTOLAN_BENCH_PORT:-3190}"
URL="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y wrk >/dev/null; } || {
  echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; }

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start() { # $1: database file; prints milliseconds from spawn to /readyz = 200
  local t0 t1
  t0=$(date +%s%N)
  "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite://$1" --site-root "$SITE" 2>>"$work/log" &
  pid=$!
  until curl -fso /dev/null "$URL/readyz"; do sleep 0.005; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

echo "== cold start of 'portolan serve' (SQLite) to /readyz = 200, target <= 1000 ms"
for i in 1 2 3 4 5; do
  ms=$(start "$work/cold-$i.db"); stop
  echo "run $i (fresh database, migrations included): ${ms} ms"
done

echo
echo "== SSR of the shell vs a static handler with the same bytes (32 connections, 10 s each)"
start "$work/ssr.db" >/dev/null
curl -fs "$URL/clusters" -o "$SITE/bench-shell.html"
wrk_rps() { wrk -t2 -c32 -d10s --latency "$1" | tee -a "$work/wrk.txt" | awk '/Requests\/sec/ {print $2}'; }
ssr=$(wrk_rps "$URL/clusters")
static=$(wrk_rps "$URL/bench-shell.html")
stop
rm -f "$SITE/bench-shell.html"
echo "SSR /clusters:           $ssr req/s"
echo "static, identical bytes: $static req/s"
awk -v a="$ssr" -v b="$static" 'BEGIN { printf "ratio SSR/static: %.2f (target >= 0.5)\n", a / b }'

echo
echo "== shipped to the browser, gzip -9 (target <= 400 KB for the shell)"
total=0
for f in "$SITE/pkg/portolan_bg.wasm" "$SITE/pkg/portolan.js" "$SITE/pkg/portolan.css"; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9c "$f" | wc -c); total=$((total + gz))
  printf "%-28s %8d bytes raw %8d bytes gzip\n" "$(basename "$f")" "$raw" "$gz"
done
awk -v t="$total" 'BEGIN { printf "wasm + js + css, gzip: %d bytes (%.1f KB)\n", t, t / 1024 }'
