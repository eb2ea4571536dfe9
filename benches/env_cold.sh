#!/usr/bin/env bash
# Whole-process time of `overwatch env` (table and --json) on a production-shaped machine: a new
# process per run, as a shell prompt or a wrapper would start it. Builds the machine in a temp
# dir (kubeconfig with three contexts, AWS SSO profile + token cache + static keys, gcloud, Azure
# with BOM, a terraform root with an S3 backend, a real git repo, a remote docker context,
# database/service URLs and planted credentials), then times RUNS runs with hyperfine if
# installed, else with a bash loop around date +%s%N.
#
# Measured 2026-11-21 (release, 2 shared cores, load ~8, hyperfine -N, 100 runs): floor
# `env -i true` 2.5 ms; `overwatch env` 6.1 ± 1.0 ms (user 3.3 ms, sys 2.5 ms); `--json` 5.9 ms.
#
# Usage: benches/env_cold.sh [path/to/overwatch]   (default: benches/release-bin.sh; build it
#        with `cargo build --release`). RUNS=100 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-$(benches/release-bin.sh)}")
RUNS=${RUNS:-100}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release)" >&2; exit 2; }

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
H=$ROOT/home W=$H/work
mkdir -p "$H/.kube" "$H/.aws/sso/cache" "$H/.config/gcloud/configurations" "$H/.azure" \
  "$H/.docker" "$W/.terraform"

cat >"$H/.kube/config" <<'K'
apiVersion: v1
kind: Config
current-context: prod-eu
clusters:
- {name: eks-prod-eu, cluster: {server: "https://ABC123.gr7.eu-west-1.eks.amazonaws.com"}}
- {name: eks-staging-eu, cluster: {server: "https://DEF456.gr7.eu-west-1.eks.amazonaws.com"}}
- {name: kind-kind, cluster: {server: "https://127.0.0.1:40123"}}
contexts:
- {name: prod-eu, context: {cluster: eks-prod-eu, user: admin@prod, namespace: payments}}
- {name: staging-eu, context: {cluster: eks-staging-eu, user: admin@staging}}
- {name: kind-kind, context: {cluster: kind-kind, user: kind-kind}}
users:
- {name: admin@prod, user: {token: bench-token}}
- {name: admin@staging, user: {token: bench-token}}
- {name: kind-kind, user: {token: bench-token}}
K
cat >"$H/.aws/config" <<'A'
[default]
region = us-east-1
[profile prod]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = AdministratorAccess
region = eu-west-1
[profile staging]
role_arn = arn:aws:iam::210987654321:role/Deploy
source_profile = default
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
A
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n' >"$H/.aws/credentials"
SSO=$(printf corp | sha1sum | cut -d' ' -f1)
echo '{"accessToken": "x", "expiresAt": "2099-01-01T00:00:00Z"}' >"$H/.aws/sso/cache/$SSO.json"
echo prod >"$H/.config/gcloud/active_config"
printf '[core]\naccount = ops@shop.example\nproject = shop-prod\n[compute]\nregion = europe-west1\n' \
  >"$H/.config/gcloud/configurations/config_prod"
printf '\xef\xbb\xbf{"subscriptions": [{"id": "0000", "name": "Payments-Production", "isDefault": true, "user": {"name": "ops"}}]}' \
  >"$H/.azure/azureProfile.json"
echo '{"currentContext": "prod-swarm"}' >"$H/.docker/config.json"
echo 'terraform {}' >"$W/main.tf"
printf prod >"$W/.terraform/environment"
echo '{"backend": {"type": "s3", "config": {"bucket": "shop-tfstate-prod", "key": "net.tfstate"}}}' \
  >"$W/.terraform/terraform.tfstate"
git -C "$W" init -q -b main && git -C "$W" remote add origin https://github.com/shop/infra.git
echo 'STRIPE_SECRET_KEY=x' >"$W/.env.production"

ENVV=(env -i HOME="$H" PATH=/usr/bin:/bin AWS_PROFILE=prod HOSTNAME=bench
  DATABASE_URL=postgres://app:pw@orders.prod.db.internal:5432/orders
  REDIS_URL=redis://cache.internal:6379/0 VAULT_ADDR=https://vault.prod.example:8200
  GITHUB_TOKEN=ghp_x ANTHROPIC_API_KEY=sk-ant-x)
cd "$W"
"${ENVV[@]}" "$BIN" env | head -3

if command -v hyperfine >/dev/null; then
  hyperfine -N --warmup 3 --runs "$RUNS" -n 'floor: env -i true' "${ENVV[*]} /bin/true" \
    -n 'overwatch env' "${ENVV[*]} $BIN env" -n 'overwatch env --json' "${ENVV[*]} $BIN env --json"
  exit 0
fi
# The first line is the floor: spawning `env -i` and a trivial program from bash.
for args in "true" "env" "env --json"; do
  if [ "$args" = true ]; then cmd=(/bin/true); else cmd=("$BIN" $args); fi
  times=()
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    "${ENVV[@]}" "${cmd[@]}" >/dev/null
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v a="$args" '
    {v[NR]=$1; s+=$1} END {printf "%-20s runs=%d mean=%.2f ms median=%.2f ms min=%.2f ms max=%.2f ms\n",
      a, NR, s/NR/1000, v[int((NR+1)/2)]/1000, v[1]/1000, v[NR]/1000}'
done
