#!/usr/bin/env bash
# What looking inside encodings and archives costs: `keyhound scan` with decoding off
# (--max-decode-depth 0) against the default (2), on the same trees, in the same run
# (hyperfine, warm cache), then as alternating pairs. Prints two tables; the issue's bar is a
# ratio <= 1.15.
#   bench/decode.sh [TREE...]   default: ~/.cargo/registry/src and /tmp/bench-repos/cargo
#   KH=path/to/keyhound (skip the build), RUNS=n (default 10), PAIRS=n (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
if [ -z "${KH:-}" ]; then
  cargo build --release -q -p keyhound-cli
fi
kh=${KH:-$PWD/target/release/keyhound}
trees=("$@")
if [ ${#trees[@]} -eq 0 ]; then
  trees=("$HOME/.cargo/registry/src")
  [ -d /tmp/bench-repos/cargo ] && trees+=(/tmp/bench-repos/cargo)
fi
runs=${RUNS:-10}
# Containers add content (an archive's members are files of their own), so the second pair of
# runs leaves archives out of both sides: what decoding encodings costs on the same bytes.
noarch=$(mktemp)
trap 'rm -f "$noarch"' EXIT
printf '%s\n' '*.zip' '*.jar' '*.war' '*.docx' '*.xlsx' '*.tar' '*.tgz' '*.gz' '*.crate' > "$noarch"
printf '| tree | files | archives | MiB | depth 0 s | depth 2 s | ratio | user s (0 / 2) | without archives: 0 s | 2 s | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n'
for t in "${trees[@]}"; do
  files=$(find "$t" -type f -not -path '*/.git/*' | wc -l)
  archives=$(find "$t" -type f -not -path '*/.git/*' \( -name '*.zip' -o -name '*.jar' -o -name '*.war' -o -name '*.docx' -o -name '*.xlsx' -o -name '*.tar' -o -name '*.tgz' -o -name '*.gz' -o -name '*.crate' \) | wc -l)
  mib=$(du -sm --exclude=.git "$t" | cut -f1)
  json=$(mktemp)
  hyperfine -N --warmup 2 --runs "$runs" --export-json "$json" -i \
    "$kh scan -q --format jsonl -o /dev/null --max-decode-depth 0 $t" \
    "$kh scan -q --format jsonl -o /dev/null $t" \
    "$kh scan -q --format jsonl -o /dev/null --ignore-file $noarch --max-decode-depth 0 $t" \
    "$kh scan -q --format jsonl -o /dev/null --ignore-file $noarch $t" >/dev/null
  python3 - "$json" "$t" "$files" "$archives" "$mib" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
off, on, noff, non = (x["median"] for x in r)
uo, un = r[0]["user"], r[1]["user"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {off:.3f} | {on:.3f} | {on/off:.2f}x | {uo:.3f} / {un:.3f} | {noff:.3f} | {non:.3f} | {non/noff:.2f}x |")
PY
  rm -f "$json"
done
# Second table: depth 0 and depth 2 run one after the other, PAIRS times (default 30), so that
# the machine's drift over a hyperfine series falls on both sides alike; the median and the
# spread (10th to 90th percentile) of the per-pair ratios.
pairs=${PAIRS:-30}
printf '\n| tree | pairs | median depth 2 / depth 0 | p10 | p90 |\n|---|---|---|---|---|\n'
for t in "${trees[@]}"; do
  python3 - "$kh" "$t" "$pairs" <<'PY'
import statistics, subprocess, sys, time
kh, tree, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
def run(depth):
    start = time.perf_counter()
    subprocess.run([kh, "scan", "-q", "--format", "jsonl", "-o", "/dev/null",
                    "--max-decode-depth", str(depth), tree], check=False)
    return time.perf_counter() - start
def ratio(first):
    # Which side runs first alternates, so that neither always finds the cache the other left.
    a = run(first)
    b = run(2 - first)
    return a / b if first == 2 else b / a
run(0); run(2)
ratios = sorted(ratio(2 * (i % 2)) for i in range(pairs))
q = statistics.quantiles(ratios, n=10)
print(f"| {tree} | {pairs} | {statistics.median(ratios):.3f}x | {q[0]:.3f}x | {q[-1]:.3f}x |")
PY
done
