#!/usr/bin/env bash
# Runs the black-box conformance suite through nginx in front of two bridge replicas that serve the
# same (emulated) Salesforce org, as an operator would deploy it. Used by .ci/run; needs nginx.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${nginx_pgid:-}" ]; then # nginx's own process group: graceful stop, then nothing survives
    kill -QUIT -- "-$nginx_pgid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$nginx_pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$nginx_pgid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

used_ports=" "
free_port() { # VAR: set VAR to a loopback port nothing listens on and not handed out before
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then used_ports+="$p "; printf -v "$1" '%s' "$p"; return; fi
  done
}
wait_http() { # url
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2; return 1
}

go build -o "$work/scim-bridge" ./cmd/scim-bridge
free_port emu_port; free_port p1; free_port p2; free_port np
secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
refresh="5Aep$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

"$work/scim-bridge" emulator --listen "127.0.0.1:$emu_port" --client-id ci-client \
  --client-secret "$secret" --refresh-token "$refresh" --api-limit 1000000 >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$emu_port/services/data/"

cat >"$work/bridge.yaml" <<YAML
public_url: http://127.0.0.1:$np
salesforce:
  url: http://127.0.0.1:$emu_port
  client_id: ci-client
groups:
  allow_delete: true
YAML
for port in "$p1" "$p2"; do
  SCIM_BRIDGE_TOKEN="$token" SCIM_BRIDGE_SALESFORCE_CLIENT_SECRET="$secret" \
  SCIM_BRIDGE_SALESFORCE_REFRESH_TOKEN="$refresh" SCIM_BRIDGE_SHUTDOWN_DELAY=0s \
    "$work/scim-bridge" serve --config "$work/bridge.yaml" --listen "127.0.0.1:$port" >"$work/bridge-$port.log" 2>&1 &
  pids+=($!)
done
wait_http "http://127.0.0.1:$p1/healthz"
wait_http "http://127.0.0.1:$p2/healthz"

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  upstream scim_bridge { server 127.0.0.1:$p1; server 127.0.0.1:$p2; }
  server {
    listen 127.0.0.1:$np;
    client_max_body_size 8m;
    # Keep bodies in memory: the workers cannot write to this root-owned temporary directory.
    client_body_buffer_size 8m;
    location / {
      proxy_pass http://scim_bridge;
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host:\$server_port;
      proxy_set_header X-Request-Id \$request_id;
    }
  }
}
NGINX
# In the foreground of its own process group (setsid), so that cleanup reaches master and workers.
setsid nginx -p "$work" -c "$work/nginx.conf" -g 'daemon off;' 2>"$work/nginx/stderr.log" &
nginx_pgid=$!
wait_http "http://127.0.0.1:$np/healthz"

echo "conformance suite through nginx at http://127.0.0.1:$np/scim/v2 (two replicas)"
if ! SCIM_TEST_URL="http://127.0.0.1:$np/scim/v2" SCIM_TEST_TOKEN="$token" \
     SCIM_TEST_DEVIATIONS="delete-deactivates,membership-merge" SCIM_TEST_IDP=true \
     go test -count=1 -v ./test/conformance > "$work/conformance.out" 2>&1; then
  cat "$work/conformance.out"
  echo "--- bridge logs (tail)"; tail -n 30 "$work"/bridge-*.log
  exit 1
fi
grep -E '^(--- FAIL|FAIL|ok |PASS$)|^(RFC|IdP compatibility): ' "$work/conformance.out" || true
