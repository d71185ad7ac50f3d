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
printf '| tree | files | MiB | keyhound scan s | rg -F -f keywords s | ratio |\n|---|---|---|---|---|---|\n'
for t in "${trees[@]}"; do
  files=$(rg --files "$t" | wc -l)
  mib=$(rg --files -0 "$t" | xargs -0 du -cb 2>/dev/null | tail -1 | awk '{printf "%.0f", $1/1048576}')
  json=$(mktemp)
  hyperfine -N --warmup 1 --runs 5 --export-json "$json" -i \
    "$kh scan -q --format jsonl -o /dev/null $t" \
    "rg --hidden -F -f $pat -c -j $(nproc) $t" >/dev/null
  python3 - "$json" "$t" "$files" "$mib" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
kh, rg = r[0]["median"], r[1]["median"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {kh:.3f} | {rg:.3f} | {kh/rg:.2f}x |")
PY
  rm -f "$json"
done
rm -f "$pat"
