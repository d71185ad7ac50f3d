#!/usr/bin/env bash
# Times `keyhound scan` over a source tree against ripgrep searching the union of every rule
# keyword on the same tree, in the same run (hyperfine, warm cache). Prints a table.
#   bench/scan.sh [TREE...]     default: ~/.cargo/registry/src and /tmp/bench-repos/cargo
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rg >/dev/null || { echo "needs rg (apt-get install ripgrep)"; exit 2; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
cargo build --release -q -p keyhound-cli
kh=$PWD/target/release/keyhound
# KEYHOUND_BASE: another keyhound binary (the one before a change), timed in the same hyperfine
# run; its column follows keyhound's.
base=${KEYHOUND_BASE:-}
trees=("$@")
if [ ${#trees[@]} -eq 0 ]; then
  trees=("$HOME/.cargo/registry/src")
  [ -d /tmp/bench-repos/cargo ] && trees+=(/tmp/bench-repos/cargo)
fi
pat=$(mktemp)
"$kh" rules list --format json | python3 -c '
import json, sys
for k in sorted({k for r in json.load(sys.stdin) for k in r["keywords"]}):
    print(k)' > "$pat"
echo "keywords: $(wc -l < "$pat")"
if [ -n "$base" ]; then
  printf '| tree | files | MiB | keyhound scan s | rg -F -f keywords s | ratio | base scan s | keyhound / base |\n|---|---|---|---|---|---|---|---|\n'
else
  printf '| tree | files | MiB | keyhound scan s | rg -F -f keywords s | ratio |\n|---|---|---|---|---|---|\n'
fi
for t in "${trees[@]}"; do
  files=$(rg --files "$t" | wc -l)
  mib=$(rg --files -0 "$t" | xargs -0 du -cb 2>/dev/null | tail -1 | awk '{printf "%.0f", $1/1048576}')
  json=$(mktemp)
  hyperfine -N --warmup 1 --runs 5 --export-json "$json" -i \
    "$kh scan -q --format jsonl -o /dev/null $t" \
    "rg --hidden -F -f $pat -c -j $(nproc) $t" \
    ${base:+"$base scan -q --format jsonl -o /dev/null $t"} >/dev/null
  python3 - "$json" "$t" "$files" "$mib" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
kh, rg = r[0]["median"], r[1]["median"]
row = f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {kh:.3f} | {rg:.3f} | {kh/rg:.2f}x |"
if len(r) > 2:
    row += f" {r[2]['median']:.3f} | {kh / r[2]['median']:.2f}x |"
print(row)
PY
  rm -f "$json"
done
rm -f "$pat"
