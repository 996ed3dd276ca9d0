#!/usr/bin/env bash
# Benchmarks for the release build (run by `make bench` after `make build`): cold start to /readyz,
# SSR throughput beside a static handler serving the same bytes, and the gzip size of what a
# browser downloads. Traffic goes to 127.0.0.1 only, bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/portolan
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/portolan"
SITE=target/site
BENCH_SERVER="${CARGO_TARGET_DIR:-target}/release/examples/bench_server"
BENCH_FLEET="${CARGO_TARGET_DIR:-target}/release/examples/bench_fleet"
BENCH_METRICS="${CARGO_TARGET_DIR:-target}/release/examples/bench_metrics"
PORT="${PORTOLAN_BENCH_PORT:-3190}"
URL="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y wrk >/dev/null; } || {
  echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; }

work=$(mktemp -d)
pid=""
simpid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  [ -n "$simpid" ] && kill "$simpid" 2>/dev/null
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT

start() { # $1: database file; sets started_ms to the time from spawn to /readyz = 200
  local t0 t1
  t0=$(date +%s%N)
  "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite://$1" --site-root "$SITE" \
    >/dev/null 2>>"$work/log" &
  pid=$!
  until curl -fso /dev/null "$URL/readyz"; do
    kill -0 "$pid" 2>/dev/null || { echo "portolan exited:"; cat "$work/log"; exit 1; }
    sleep 0.005
  done
  t1=$(date +%s%N)
  started_ms=$(( (t1 - t0) / 1000000 ))
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

echo "== cold start of 'portolan serve' (SQLite) to /readyz = 200, target <= 1000 ms"
for i in 1 2 3 4 5; do
  start "$work/cold-$i.db"; stop
  echo "run $i (fresh database, migrations included): ${started_ms} ms"
done

echo
echo "== SSR of the shell vs a static handler with the same bytes (32 connections, 10 s each)"
"$BENCH_SERVER" "127.0.0.1:$PORT" "$SITE" >/dev/null 2>&1 &
pid=$!
until curl -fso /dev/null "$URL/readyz"; do
  kill -0 "$pid" 2>/dev/null || { echo "$BENCH_SERVER did not start (run 'make bench')"; exit 1; }
  sleep 0.01
done
cmp <(curl -fs "$URL/clusters" | sed 's/nonce-[^"]*//; s/nonce="[^"]*"//g; s/crossorigin="[^"]*"//g') \
    <(curl -fs "$URL/bench/static-shell" | sed 's/nonce-[^"]*//; s/nonce="[^"]*"//g; s/crossorigin="[^"]*"//g') \
  || { echo "the static handler does not serve the shell's bytes"; exit 1; }
wrk_rps() { wrk -t2 -c32 -d10s --latency "$1" | tee -a "$work/wrk.txt" | awk '/Requests\/sec/ {print $2}'; }
ssr=$(wrk_rps "$URL/clusters")
static=$(wrk_rps "$URL/bench/static-shell")
stop
echo "SSR /clusters:                         $ssr req/s"
echo "static handler, identical bytes:       $static req/s"
awk -v a="$ssr" -v b="$static" 'BEGIN { printf "ratio SSR/static: %.2f (target >= 0.5)\n", a / b }'

echo
echo "== shipped to the browser, gzip -9 (target <= 150 KB for today's pages; the test fails past 250 KB)"
total=0
for f in "$SITE/pkg/portolan_bg.wasm" "$SITE/pkg/portolan.js" "$SITE/pkg/portolan.css"; do
  raw=$(stat -c %s "$f"); gz=$(gzip -9c "$f" | wc -c); total=$((total + gz))
  printf "%-28s %8d bytes raw %8d bytes gzip\n" "$(basename "$f")" "$raw" "$gz"
done
awk -v t="$total" 'BEGIN { printf "wasm + js + css, gzip: %d bytes (%.1f KB)\n", t, t / 1024 }'

echo
echo "== HTML of each page for a signed-in administrator (raw bytes)"
end2end/html-bytes.sh "$BIN" "$SITE" "$PORT"

echo
echo "== /clusters with 1,000 clusters in kubesim (signed-in admin): latency at 32 connections, and"
echo "   throughput against the same bytes from memory; and a node going NotReady until the page shows it"
"$BENCH_FLEET" page "127.0.0.1:$PORT" "$SITE" >"$work/fleet.out" 2>"$work/fleet.err" &
pid=$!
until grep -q '^READY ' "$work/fleet.out" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || { echo "$BENCH_FLEET page failed:"; cat "$work/fleet.err"; exit 1; }
  sleep 1
done
grep -v '^READY ' "$work/fleet.out"
tail -n 1 "$work/fleet.err"
cookie=$(sed -n 's/^READY //p' "$work/fleet.out")
fleet_wrk() { wrk -t2 -c32 -d10s --latency -H "Cookie: $cookie" "$1" | tee -a "$work/wrk.txt"; }
ssr_out=$(fleet_wrk "$URL/clusters")
static_out=$(fleet_wrk "$URL/bench/static-fleet")
stop
field() { awk -v k="$1" '$1 == k {print $2}'; }
echo "SSR /clusters (1,000 clusters, page 1): p50 $(field 50% <<<"$ssr_out"), p99 $(field 99% <<<"$ssr_out") (target p99 <= 100 ms), $(field Requests/sec: <<<"$ssr_out") req/s"
echo "static handler, identical bytes:        p50 $(field 50% <<<"$static_out"), p99 $(field 99% <<<"$static_out"), $(field Requests/sec: <<<"$static_out") req/s"
awk -v a="$(field Requests/sec: <<<"$ssr_out")" -v b="$(field Requests/sec: <<<"$static_out")" \
  'BEGIN { printf "ratio SSR/static: %.2f\n", a / b }'

echo
echo "== creation wizard: step transitions, step pages and name checks, server time (200 rounds, target p99 <= 50 ms)"
start "$work/wizard.db"
sleep 2
(cd end2end && node bench-wizard.mjs "$URL" 200)
stop

echo
echo "== live charts: a sample reaching the SVG in the browser's DOM (Chromium, 60 s, polling every second)"
"$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite://$work/live.db" --site-root "$SITE" \
  --kubesim-speed 60 --metrics-interval 1s >/dev/null 2>>"$work/log" &
pid=$!
until curl -fso /dev/null "$URL/readyz"; do
  kill -0 "$pid" 2>/dev/null || { echo "portolan exited:"; cat "$work/log"; exit 1; }
  sleep 0.05
done
sleep 5
(cd end2end && node bench-latency.mjs "$URL" 60)
stop

echo
echo "== live charts: 1,000 viewers of one chart (server-sent events over loopback, 30 s)"
"$BENCH_METRICS" live 1000 30 2>"$work/metrics.err" || { cat "$work/metrics.err"; exit 1; }

echo
echo "== the portal's memory watching 200 clusters / ~10,000 nodes / ~100,000 pods (kubesim in another process)"
"$BIN" sim --kubeconfig "$work/sim.yaml" --speed 2000 >"$work/sim.out" 2>"$work/sim.err" &
simpid=$!
until [ -s "$work/sim.yaml" ]; do
  kill -0 "$simpid" 2>/dev/null || { echo "portolan sim failed:"; cat "$work/sim.err"; exit 1; }
  sleep 0.1
done
"$BENCH_FLEET" memory "$work/sim.yaml" 2>"$work/memory.err" || { cat "$work/memory.err"; exit 1; }
kill "$simpid"; wait "$simpid" 2>/dev/null || true; simpid=""
