#!/usr/bin/env bash
# The overwatch demo agent: a plain script that talks like a coding agent and then runs real
# commands in the throw-away workspace `overwatch demo` built for it. Every guarded command below
# goes through the real gate (PATH shims and the exec gate); programs that are not installed are
# stand-ins that print what they would have done.
#
# The seed incident it reproduces: mid-migration from LaunchDarkly to Flagsmith, the agent flips a
# feature flag in the *old* provider, while its credentials point at production.
set -u

say() { printf '\n\033[1;35m●\033[0m \033[1m%s\033[0m\n' "$*"; sleep "${DEMO_PAUSE:-1.2}"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; bash -c "$*"; local rc=$?; [ $rc -eq 0 ] || printf '\033[33m  (exit %d)\033[0m\n' "$rc"; sleep 0.6; return 0; }

say "I'll fix the checkout timeout bug and roll the change out. Looking at the repo first."
run "git status --short && git log --oneline -3"

say "The timeout is hard-coded in checkout.py. Raising it to 30s."
sed -i 's/TIMEOUT_SECONDS = 5/TIMEOUT_SECONDS = 30/' checkout.py
printf '\n# retry once on timeout (added by agent)\nRETRIES = 1\n' >> checkout.py
run "python3 -m unittest -q test_checkout 2>&1 | tail -2"

say "Tests pass. Updating the staging secrets so the new timeout is picked up."
printf 'CHECKOUT_TIMEOUT=30\n' >> .env

say "Cleaning up the old checkout pods so they restart with the new config."
run "kubectl delete pods -l app=checkout -n payments"

say "The old load balancer module is unused; tearing it down."
run "terraform destroy -auto-approve -target=module.legacy_lb"

say "Dropping the legacy sessions table the migration replaced."
run "psql \"\$DATABASE_URL\" -c 'DROP TABLE legacy_sessions'"

say "Enabling the new checkout for everyone."
run "ldcli flags toggle-on --project shop --flag checkout-v2 --environment production"

say "My branch diverged from main; force-pushing the fix."
run "git push --force origin main"

say "Done. Summary: raised the checkout timeout, restarted pods, removed the legacy LB and table, enabled checkout-v2, pushed to main."
