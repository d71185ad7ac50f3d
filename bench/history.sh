#!/usr/bin/env bash
# Times the full-history audit `keyhound git REPO` against the floor (the fastest known way to
# read every reachable blob once, ../shared/floor), `git cat-file --batch-all-objects --batch
# --unordered`, and every installed peer scanner (bench/peers.sh), in one run, on the same
# warm cache. Prints a markdown table of median wall time, CPU time and peak RSS, then
# keyhound's time per stage and the rules that cost the most (KEYHOUND_TIMINGS=1).
#   bench/history.sh REPO...        e.g. bench/history.sh /tmp/bench-repos/cargo
# Environment: RUNS (default 3) for keyhound, the floor and git; PEER_RUNS (default 1);
# FLOOR_DIR (default ../shared/floor); KEYHOUND_ARGS (extra arguments for keyhound);
# KEYHOUND_BASE (another keyhound binary, e.g. the one before a change: its row comes next to
# keyhound's, measured in the same run, runs alternating with keyhound's).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/history.sh REPO..." >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
RUNS=${RUNS:-3}
PEER_RUNS=${PEER_RUNS:-1}
FLOOR_DIR=${FLOOR_DIR:-../shared/floor}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Output goes to a sink that is surely the null device: on a shared machine /dev/null has been
# seen replaced by a regular file, which then fills up and is read back by other programs.
sink=/dev/null
if [ ! -c /dev/null ]; then
  if mknod "$work/null" c 1 3 2>/dev/null; then sink=$work/null; else sink=$work/sink; fi
  echo "warning: /dev/null is not a character device; writing to $sink" >&2
fi

cargo build --release -q -p keyhound-cli
cat > "$work/one-rule.toml" <<'RULE'
[extend]
default = false

[[rules]]
id = "openai-key-marker"
description = "A key with OpenAI's marker"
regex = 'sk-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}'
keywords = ["T3BlbkFJ"]
RULE
kh=$PWD/target/release/keyhound
floor=""
if [ -f "$FLOOR_DIR/Cargo.toml" ]; then
  cargo build --release -q --manifest-path "$FLOOR_DIR/Cargo.toml" --target-dir /tmp/floor-target
  floor=/tmp/floor-target/release/spike
fi
if [ -f bench/peers.sh ]; then
  # shellcheck source=/dev/null
  . bench/peers.sh
fi

# measure NAME RUNS CMD: runs CMD (a shell string) RUNS times under GNU time, writes
# "NAME<TAB>wall<TAB>cpu<TAB>rss_kib" with the median wall time and that run's CPU and RSS.
measure() {
  local name=$1 runs=$2 cmd=$3 i
  : > "$work/runs"
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%e %U %S %M' -o "$work/t" bash -c "$cmd" >"$sink" 2>"$work/err" || true
    # GNU time puts "Command exited with non-zero status N" first; the numbers come last.
    tail -n 1 "$work/t" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' >> "$work/runs"
  done
  sort -n "$work/runs" | awk -v n="$runs" -v name="$name" 'NR == int((n + 1) / 2) {
    printf "%s\t%s\t%s\t%s\n", name, $1, $2, $3 }'
}

for repo in "$@"; do
  repo=$(cd "$repo" && pwd)
  commits=$(git -C "$repo" rev-list --all | wc -l)
  echo
  echo "## $repo ($commits commits, all refs; $(nproc) cores; medians of $RUNS, peers $PEER_RUNS)"
  echo
  rows=$work/rows
  : > "$rows"
  # Warm the page cache once.
  git -C "$repo" cat-file --batch-all-objects --batch --unordered > "$sink"
  if [ -n "${KEYHOUND_BASE:-}" ]; then
    # Alternate the two, one run each at a time, so that the machine's drift hits both alike.
    : > "$work/a"; : > "$work/b"
    for ((i = 0; i < RUNS; i++)); do
      measure "keyhound git" 1 "$kh git '$repo' -q --format json -o '$sink' ${KEYHOUND_ARGS:-}" >> "$work/a"
      measure "keyhound git (base)" 1 "$KEYHOUND_BASE git '$repo' -q --format json -o '$sink' ${KEYHOUND_ARGS:-}" >> "$work/b"
    done
    for f in a b; do
      sort -t$'\t' -k2 -n "$work/$f" | awk -v n="$RUNS" 'NR == int((n + 1) / 2)' >> "$rows"
    done
  else
    measure "keyhound git" "$RUNS" "$kh git '$repo' -q --format json -o '$sink' ${KEYHOUND_ARGS:-}" >> "$rows"
  fi
  # The same walk and reader with one rule and no decoding: what the rules cost is the
  # difference with the row above.
  measure "keyhound git, 1 rule, no decoding" "$RUNS" \
    "$kh git '$repo' -q --format json -o '$sink' -c '$work/one-rule.toml' --max-decode-depth 0" >> "$rows"
  if [ -n "$floor" ]; then
    measure "floor (g2-walk-packorder)" "$RUNS" "NOVERIFY=1 G2_NOCACHE=1 $floor g2-walk-packorder '$repo'" >> "$rows"
  fi
  measure "git cat-file --batch-all-objects --batch --unordered" "$RUNS" \
    "git -C '$repo' cat-file --batch-all-objects --batch --unordered" >> "$rows"
  if declare -F peer_history_cmds >/dev/null; then
    while IFS=$'\t' read -r name cmd; do
      measure "$name" "$PEER_RUNS" "$cmd" >> "$rows"
    done < <(peer_history_cmds "$repo")
  fi
  floor_wall=$(awk -F'\t' '$1 ~ /^floor/ { print $2 }' "$rows")
  printf '| tool | wall s | CPU s | peak RSS MiB | wall / floor |\n|---|---|---|---|---|\n'
  awk -F'\t' -v f="${floor_wall:-0}" '{
    ratio = (f > 0) ? sprintf("%.2fx", $2 / f) : "-"
    printf "| %s | %.2f | %.2f | %.0f | %s |\n", $1, $2, $3, $4 / 1024, ratio }' "$rows"
  echo
  # Stages, and the rules that took the most time (KEYHOUND_TIMINGS runs the prefilter a second
  # time on its own, to time it, so this run is slower than the ones above).
  KEYHOUND_TIMINGS=1 "$kh" git "$repo" -q --format json -o "$sink" ${KEYHOUND_ARGS:-} 2>&1 >"$sink" \
    | grep -E 'timings:|rule time:' \
    | sed -e 's/^keyhound: timings: /keyhound stages: /' -e 's/^keyhound: rule time: /\nkeyhound rule time: /' || true
done
