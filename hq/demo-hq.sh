#!/usr/bin/env bash
# Option B beside make demo: kassehq holding both demo stores' keys, and a
# second register (store DEMO2, its own sales unit 222222) that refunds
# DEMO1's sales through kassehq. Run it while
#   make demo VIPPSSIM_FLAGS='--unit 222222'
# runs in another terminal. Usage: hq/demo-hq.sh BIN DEMO SIMADDR
set -euo pipefail
bin=$1 demo=$2 sim=$3
hq=$demo/hq reg=$demo/demo2
[ -d "$demo/data" ] || { echo "start make demo VIPPSSIM_FLAGS='--unit 222222' first" >&2; exit 2; }
rm -rf "$hq" "$reg"
install -d -m 700 "$hq" "$hq/stores" "$hq/data"
"$bin/kassehq" --dir "$hq" init --host 127.0.0.1 >/dev/null
# The stores' keys: DEMO1 is make demo's main unit, DEMO2 the simulator's
# second unit with its default keys.
printf '%s\n' 'msn = "123456"' 'client_id = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"' \
	'client_secret = "demo-client-secret"' 'subscription_key = "demo-subscription-key"' > "$hq/stores/DEMO1.toml"
printf '%s\n' 'msn = "222222"' 'client_id = "demo-client-id-222222"' \
	'client_secret = "demo-client-secret-222222"' 'subscription_key = "demo-subscription-key-222222"' > "$hq/stores/DEMO2.toml"
chmod 600 "$hq/stores/"*.toml
install -d -m 750 "$reg"
"$bin/kassehq" --dir "$hq" register DEMO2-1 --store DEMO2 --out "$reg/hq" >/dev/null
chmod 700 "$reg/hq"
# The second register: its own store and sales unit, refunds of DEMO1's
# sales through kassehq.
cat > "$reg/kassed.toml" <<TOML
data_dir = "data"
[vipps]
base_url = "http://$sim"
msn = "222222"
secrets_file = "secrets.toml"
payment_description = "Kjøp i Demobutikken 2"
[store]
prefix = "DEMO2"
lane = "1"
name = "Demobutikken 2"
org_number = "987 654 325"
tax_rate = 2500
[chain]
stores = ["DEMO1"]
[refund]
via = "central"
hq_url = "https://127.0.0.1:8443"
hq_cert = "hq/register.pem"
hq_key = "hq/register.key"
hq_ca = "hq/ca.pem"
[[keys.cashiers]]
id = "1"
name = "Demo"
pin_hash = "\$argon2id\$v=19\$m=19456,t=2,p=1\$Wh2vun1HQQcgfDVTC67aIg\$uVr/TPkVAMAy3ZLfehwZtcLNqyJMph3jyaUtXf0YwDU"
supervisor = true
TOML
chmod 640 "$reg/kassed.toml"
printf '%s\n' 'client_id = "demo-client-id-222222"' 'client_secret = "demo-client-secret-222222"' \
	'subscription_key = "demo-subscription-key-222222"' > "$reg/secrets.toml"
chmod 600 "$reg/secrets.toml"
"$bin/kassectl" keygen --key "$reg/signing-key.pem"
echo "kassehq on https://127.0.0.1:8443, register DEMO2-1 in $reg"
echo "  a sale at DEMO1:    $bin/kassectl --data $demo/data key 1 pay 1 2 3 4 pay 1 0 0 0 0 pay  (approve it on the simulator)"
echo "  refund it at DEMO2: $bin/kassectl --data $reg/data key 1 pay 1 2 3 4 pay refund; $bin/kassectl --data $reg/data scan REFERENCE"
echo "                      $bin/kassectl --data $reg/data key 5 0 0 0 pay 1 2 3 4 pay"
echo "  kassehq's journal:  $bin/kassehq --data $hq/data journal"
echo "  Ctrl-C stops kassehq and the second register."
trap 'kill $hqpid 2>/dev/null' EXIT INT TERM
"$bin/kassehq" --dir "$hq" --data "$hq/data" serve --listen 127.0.0.1:8443 --vipps "http://$sim" & hqpid=$!
sleep 0.5
"$bin/kassed" --config "$reg/kassed.toml" --sim
