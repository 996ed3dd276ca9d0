#!/usr/bin/env bash
# HTML bytes of each page as a signed-in administrator sees it (development sign-in), raw and
# gzip -9, for the benchmark table: `end2end/html-bytes.sh <portolan binary> <site root> [port]`.
set -euo pipefail
BIN="$1"; SITE="$2"; PORT="${3:-3191}"; URL="http://127.0.0.1:$PORT"
work=$(mktemp -d)
"$BIN" serve --listen "127.0.0.1:$PORT" --database-url "sqlite://$work/p.db" --site-root "$SITE" --kubesim-speed 30 \
  >/dev/null 2>"$work/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
tries=0
until curl -m 2 -fso /dev/null "$URL/readyz"; do
  tries=$((tries + 1)); [ "$tries" -lt 600 ] || { echo "not ready"; exit 1; }
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.05
done
curl -m 10 -fs -o /dev/null -c "$work/jar" -H "Origin: $URL" -d identity=admin "$URL/auth/dev"
# The demo fleet (30 times real time) is up within a few seconds: wait until every cluster is Healthy.
for _ in $(seq 1 120); do
  curl -m 10 -fs -b "$work/jar" "$URL/clusters?health=healthy" | grep -q "3 of 3 clusters" && break
  sleep 0.5
done
for page in / /clusters /dashboards /access /activity /clusters/default/prod-weu \
    /clusters/default/prod-weu/nodes "/clusters/default/prod-weu/pods?namespace=kube-system"; do
  curl -m 10 -fs -b "$work/jar" "$URL$page" > "$work/page.html"
  printf "%-40s %7d bytes raw %6d bytes gzip\n" "$page" "$(wc -c < "$work/page.html")" \
    "$(gzip -9 -c "$work/page.html" | wc -c)"
done
