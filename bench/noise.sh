#!/usr/bin/env bash
# What a person has to triage: keyhound over the full history and the working tree of public
# repositories with test keys and credential-like text. Prints, per repository and source,
# findings, distinct secrets, and how many are high / medium / low / fixture, then every
# distinct high and medium finding (redacted) for labelling by reading it in context.
#   bench/noise.sh [REPO...]   default: /tmp/bench-repos/{curl,paramiko,requests}
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p keyhound-cli
kh=$PWD/target/release/keyhound
repos=("$@")
[ ${#repos[@]} -gt 0 ] || repos=(/tmp/bench-repos/curl /tmp/bench-repos/paramiko /tmp/bench-repos/requests)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| repository | source | findings | distinct secrets | high | medium | low | fixture |\n|---|---|---|---|---|---|---|---|\n'
for r in "${repos[@]}"; do
  name=$(basename "$r")
  "$kh" git -q -f json -o "$tmp/$name-git.json" "$r" || true
  (cd "$r" && "$kh" scan -q -f json -o "$tmp/$name-tree.json" .) || true
  for src in git tree; do
    python3 - "$tmp/$name-$src.json" "$name" "$src" <<'PY'
import json, sys
f = json.load(open(sys.argv[1]))
locs = sum(len(x["locations"]) for x in f)
distinct = len({x["fingerprint"] for x in f})
count = lambda c: sum(1 for x in f if x["fixture"] is None and x["confidence"] == c)
fixtures = sum(1 for x in f if x["fixture"] is not None)
print(f"| {sys.argv[2]} | {sys.argv[3]} | {locs} | {distinct} | {count('high')} | {count('medium')} | {count('low')} | {fixtures} |")
PY
  done
done
echo
echo "High and medium findings to label (history):"
for r in "${repos[@]}"; do
  name=$(basename "$r")
  python3 - "$tmp/$name-git.json" "$name" <<'PY'
import json, sys
for x in json.load(open(sys.argv[1])):
    if x["fixture"] is None and x["confidence"] in ("high", "medium"):
        l = x["locations"][0]
        c = (l.get("commit") or {}).get("id", "")[:10]
        print(f"- {sys.argv[2]} {x['confidence']} {x['rule_id']} {l['path']}:{l['line']} {c} {x['secret']} ({'; '.join(x['context'])})")
PY
done
