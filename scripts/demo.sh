#!/usr/bin/env bash
# The main job, end to end: installs what it needs, builds the plugin,
# starts the bundled HSS/IAM simulator (HTTPS, test CA made on the spot) and
# runs the real collectd in the foreground with hss_imgstats polling it.
# Every value collectd dispatches is printed by write_log (Graphite lines)
# and stored by csv. Ctrl-C stops it; DEMO_SECONDS=N stops it after N s.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/deps.sh
bash scripts/build.sh

run="$root/_run/demo"
rm -rf "$run"
mkdir -p "$run/plugins" "$run/csv"
bash tests/sim/mkcerts.sh "$run/certs"

/usr/bin/python3 tests/sim/hss_sim.py --port-file "$run/ports.json" \
  --cert "$run/certs/server.pem" --key "$run/certs/server.key" \
  --log "$run/sim-requests.jsonl" \
  --iam-user "demo-account:monitor:demo-Passw0rd" \
  --static-token "demo-static-token-0123456789" >"$run/sim.log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$run/ports.json" ] && break; sleep 0.1; done
https=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$run/ports.json")
http=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$run/ports.json")

# Project "seed-example" answers the API documentation's own example (five
# fields only): the other twelve series are never created.
curl_body='{"body":{"repository_scan_num":5,"cicd_scan_num":10,"free_quota_num":2,"already_given":true,"image_free_quota":10}}'
/usr/bin/python3 - "$http" "$curl_body" <<'PY'
import sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/_sim/project/0000seed0000", data=sys.argv[2].encode(), method="POST")
urllib.request.urlopen(req, timeout=5).read()
PY

printf '%s\n' "demo-static-token-0123456789" >"$run/hss.token"
printf '%s\n' "demo-Passw0rd" >"$run/hss.password"
chmod 600 "$run/hss.token" "$run/hss.password"

cp .libs/hss_imgstats.so "$run/plugins/"
for p in logfile write_log csv; do cp "/usr/lib/collectd/$p.so" "$run/plugins/"; done

cat >"$run/collectd.conf" <<CONF
Hostname "demo-host"
FQDNLookup false
Interval 5
BaseDir "$run"
PIDFile "$run/collectd.pid"
PluginDir "$run/plugins"
TypesDB "/usr/share/collectd/types.db"

LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
LoadPlugin write_log
<Plugin write_log>
  Format Graphite
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$run/csv"
</Plugin>

LoadPlugin hss_imgstats
<Plugin hss_imgstats>
  # The simulator does not throttle, so the demo lifts the default budgets
  # (5 calls per 60 s, as real HSS enforces) to poll every 5 s.
  RateLimit 100 60
  <Account "static-token">
    RateLimit 100 60
    Endpoint "https://127.0.0.1:$https"
    CACert "$run/certs/ca.pem"
    TokenFile "$run/hss.token"
    <Project "web-prod">
      ProjectId "0123456789abcdef0123456789abcdef"
      EnterpriseProjectId "all_granted_eps"
      Host "hss"
    </Project>
    <Project "seed-example">
      ProjectId "0000seed0000"
      Host "hss"
    </Project>
  </Account>
  <Account "iam-password">
    Endpoint "https://127.0.0.1:$https"
    IAMEndpoint "https://127.0.0.1:$https"
    CACert "$run/certs/ca.pem"
    Domain "demo-account"
    User "monitor"
    PasswordFile "$run/hss.password"
    RateLimit 100 60
    Timeout 4000
    <Project "batch">
      ProjectId "fedcba9876543210fedcba9876543210"
      Host "hss"
    </Project>
  </Account>
</Plugin>
CONF

cat <<MSG
== hss_imgstats demo ==
simulator : https://127.0.0.1:$https (HSS and IAM), requests logged in $run/sim-requests.jsonl
collectd  : $run/collectd.conf, values in $run/csv and below (write_log, Graphite format)
stop with Ctrl-C
MSG
if [ -n "${DEMO_SECONDS:-}" ]; then
  timeout -s TERM "$DEMO_SECONDS" collectd -f -C "$run/collectd.conf" || true
else
  collectd -f -C "$run/collectd.conf"
fi
