#!/usr/bin/env bash
# `keyhound audit` of an organisation: 200 repositories, one process against 4 shards side by
# side, an incremental re-run, and the ten-clone goal. Prints markdown tables.
#   190 synthetic bare repositories made with `git fast-import` (COMMITS commits each, sharing
#       vendored files with each other, a few with fake keys made at run time, one key in two
#       repositories), plus ten `git clone --mirror --no-local` copies of CARGO_REPO (the same
#       blob ids, no files shared).
#   (a) one process over all 200;  (b) 4 shards side by side, then `keyhound merge` (its JSON
#   must equal (a)'s byte for byte);  (c) --state: a first run, then a re-run after one new
#   commit in one repository (goal: about one blob scanned, well under a tenth of the first);
#   (d) the ten cargo clones alone against one `keyhound git` of cargo plus ten enumerations
#   (`KEYHOUND_TIMINGS=1 keyhound git` of one clone gives the enumeration time; goal <= 1.3x).
# Each row: wall time, CPU time (user+sys), peak RSS (GNU time), blobs seen (the report's
# summary.blobs: unique blobs per repository, summed) and blobs scanned (audit's stderr).
#   bench/audit.sh
# Environment: KEYHOUND (the binary; default: build target/release/keyhound), CARGO_REPO
# (default /tmp/bench-repos/cargo), RUNS (default 1: median of RUNS for (a), (d)), COMMITS
# (default 30), KEYHOUND_ARGS (extra arguments for every audit; not --quiet, which hides the
# line the blobs scanned are read from). Work dir under ${TMPDIR:-/tmp},
# made anew each run and removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 2; }
CARGO_REPO=${CARGO_REPO:-/tmp/bench-repos/cargo}
[ -d "$CARGO_REPO" ] || { echo "no repository at $CARGO_REPO (a clone of rust-lang/cargo)" >&2; exit 2; }
CARGO_REPO=$(cd "$CARGO_REPO" && pwd)
RUNS=${RUNS:-1}
COMMITS=${COMMITS:-30}
SYNTH=190
CLONES=10
SHARDS=4
if [ -z "${KEYHOUND:-}" ]; then
  cargo build --release -q -p keyhound-cli
  KEYHOUND=$PWD/target/release/keyhound
fi
kh=$KEYHOUND
"$kh" audit --help >/dev/null || { echo "$kh has no audit subcommand" >&2; exit 2; }

work=${TMPDIR:-/tmp}/keyhound-bench-audit
rm -rf "$work"
mkdir -p "$work"
# On a failure, the rows measured so far go to stderr before the work dir goes.
trap 'rc=$?; [ "$rc" -eq 0 ] || cat "$work/rows" >&2 2>/dev/null; rm -rf "$work"' EXIT
# Nobody's git config but this script's.
export HOME=$work GIT_CONFIG_NOSYSTEM=1
sink=/dev/null
if [ ! -c /dev/null ]; then sink=$work/sink; echo "warning: /dev/null is not a device" >&2; fi

echo "making $SYNTH synthetic repositories and $CLONES clones of $CARGO_REPO..." >&2
repos=$work/repos
mkdir -p "$repos"
python3 - "$repos" "$SYNTH" "$COMMITS" <<'PY'
import random, subprocess, sys
root, count, commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20)
b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
def key():
    # An OpenAI-style project key, made here: the marker is assembled so no key shape sits
    # in this file.
    body = lambda n: "".join(rng.choice(b64) for _ in range(n))
    return "sk-" + "proj-" + body(74) + "T3Bl" + "bkFJ" + body(74)
# Vendored files shared by many repositories (five versions, one per group of repositories).
vendor = [[f"// vendored library {k}, version {v}\n" + "".join(
            f"export function f{k}_{j}(x) {{ return x * {j + v}; }}\n" for j in range(200))
           for v in range(5)] for k in range(8)]
keys = {i: key() for i in range(7, count, 40)}
keys[47 % count] = keys[7]  # one key in two repositories
for i in range(count):
    repo = f"{root}/synth-{i:03}.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", repo], check=True)
    out = []
    def data(b):
        b = b.encode()
        out.append(b"data %d\n" % len(b) + b + b"\n")
    for c in range(commits):
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer bench <bench@example.com> %d +0000\n" % (1700000000 + c * 3600))
        data(f"change {c} of repository {i}")
        if c == 0:
            for k in range(8):
                out.append(f"M 100644 inline vendor/lib{k}.js\n".encode())
                data(vendor[k][i % 5])
        out.append(b"M 100644 inline src/app.py\n")
        data(f"# repository {i}\n" + "".join(f"def step_{j}():\n    return {j * c}\n" for j in range(c + 5)))
        out.append(b"M 100644 inline README.md\n")
        data(f"repository {i}, revision {c}\n")
        if i in keys and c == commits // 3:
            out.append(b"M 100644 inline config/.env\n")
            data(f"OPENAI_API_KEY={keys[i]}\n")
        if i in keys and c == 2 * commits // 3:
            out.append(b"D config/.env\n")
    subprocess.run(["git", "-C", repo, "fast-import", "--quiet"], input=b"".join(out), check=True)
PY
for ((i = 0; i < CLONES; i++)); do
  git clone -q --mirror --no-local "$CARGO_REPO" "$repos/cargo-$i.git"
done
ls -d "$repos"/*.git > "$work/all.txt"
ls -d "$repos"/cargo-*.git > "$work/cargo.txt"
total=$(wc -l < "$work/all.txt")
# Warm the page cache once.
for r in "$repos"/*.git; do git -C "$r" cat-file --batch-all-objects --batch --unordered > "$sink"; done

rows=$work/rows
: > "$rows"
# timed NAME CMD: runs CMD (a shell string) once under GNU time; its stderr goes to
# $work/err; appends "NAME<TAB>wall<TAB>cpu<TAB>rss_kib" to $work/timed.
timed() {
  /usr/bin/time -f '%e %U %S %M' -o "$work/t" bash -c "$2" >"$sink" 2>"$work/err" || true
  tail -n 1 "$work/t" | awk -v name="$1" '{ printf "%s\t%s\t%.2f\t%s\n", name, $1, $2 + $3, $4 }' > "$work/timed"
}
# scanned FILE...: blobs scanned, summed over the audit lines in FILEs ("N blobs scanned"),
# or "-" if none has one.
scanned() {
  cat "$@" | sed -n 's/.* \([0-9]*\) blobs scanned.*/\1/p' | awk '{ s += $1; n++ } END { print n ? s : "-" }'
}
# seen REPORT: the report's summary.blobs ("-" for no report).
seen() {
  if [ "$1" = - ]; then echo -; return; fi
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["summary"]["blobs"])' "$1"
}
# median NAME RUNS CMD REPORT: the run with the median wall time of RUNS, as a row.
median() {
  local name=$1 runs=$2 cmd=$3 report=$4 i
  : > "$work/runs"
  for ((i = 0; i < runs; i++)); do
    timed "$name" "$cmd"
    printf '%s\t%s\n' "$(cat "$work/timed")" "$(scanned "$work/err")" >> "$work/runs"
  done
  sort -t$'\t' -k2 -n "$work/runs" | awk -v n="$runs" 'NR == int((n + 1) / 2)' > "$work/med"
  printf '%s\t%s\t%s\n' "$(cut -f1-4 "$work/med")" "$(seen "$report")" "$(cut -f5 "$work/med")" >> "$rows"
}

args=${KEYHOUND_ARGS:-}
# (a) One process.
median "(a) one process, $total repositories" "$RUNS" \
  "'$kh' audit --repos '$work/all.txt' --format json -o '$work/one.json' $args" "$work/one.json"
one_wall=$(tail -n 1 "$rows" | cut -f2)

# (b) Shards side by side, each under its own GNU time, then the merge.
mkdir -p "$work/shards"
shard_cmd=""
for ((i = 0; i < SHARDS; i++)); do
  shard_cmd+="/usr/bin/time -f '%e %U %S %M' -o '$work/shards/$i.t' '$kh' audit --repos '$work/all.txt' --shard $i/$SHARDS --format json -o '$work/shards/$i.json' $args 2>'$work/shards/$i.err' & "
done
timed "(b) $SHARDS shards side by side" "$shard_cmd wait"
shard_scanned=$(scanned "$work"/shards/*.err)
shard_seen=0
for ((i = 0; i < SHARDS; i++)); do shard_seen=$((shard_seen + $(seen "$work/shards/$i.json"))); done
# Wall: the group's; CPU: all shards' (GNU time counts waited-for children); RSS: the largest
# shard's.
printf '%s\t%s\t%s\n' "$(cut -f1-4 "$work/timed")" "$shard_seen" "$shard_scanned" >> "$rows"
for ((i = 0; i < SHARDS; i++)); do
  tail -n 1 "$work/shards/$i.t" | awk -v name="  shard $i/$SHARDS" -v seen="$(seen "$work/shards/$i.json")" \
    -v sc="$(scanned "$work/shards/$i.err")" '{ printf "%s\t%s\t%.2f\t%s\t%s\t%s\n", name, $1, $2 + $3, $4, seen, sc }' >> "$rows"
done
timed "  merge of the $SHARDS reports" "'$kh' merge $(printf "'$work/shards/%s.json' " $(seq 0 $((SHARDS - 1)))) --format json -o '$work/merged.json'"
printf '%s\t%s\t-\n' "$(cat "$work/timed")" "$(seen "$work/merged.json")" >> "$rows"
if cmp -s "$work/merged.json" "$work/one.json"; then same=yes; else same=NO; fi

# (c) Incremental: a first run that fills the state, one new commit in one repository, a re-run.
median "(c) --state, first run" 1 \
  "'$kh' audit --repos '$work/all.txt' --state '$work/state' --format json -o '$work/state1.json' $args" "$work/state1.json"
first_wall=$(tail -n 1 "$rows" | cut -f2)
msg="one more" news="one commit since then."
printf 'commit refs/heads/main\ncommitter bench <bench@example.com> 1800000000 +0000\ndata %d\n%s\nfrom refs/heads/main^0\nM 100644 inline NEWS.md\ndata %d\n%s\n' \
  "${#msg}" "$msg" "${#news}" "$news" | git -C "$repos/synth-100.git" fast-import --quiet
median "(c) --state, re-run after one new commit" 1 \
  "'$kh' audit --repos '$work/all.txt' --state '$work/state' --format json -o '$work/state2.json' $args" "$work/state2.json"
again_wall=$(tail -n 1 "$rows" | cut -f2)
reused=$(sed -n 's/.*(\([0-9]*\) from the state).*/\1/p' "$work/err" | head -n 1)

# (d) The ten clones against one scan plus ten enumerations.
median "(d) the $CLONES cargo clones alone" "$RUNS" \
  "'$kh' audit --repos '$work/cargo.txt' --format json -o '$work/cargo.json' $args" "$work/cargo.json"
clones_wall=$(tail -n 1 "$rows" | cut -f2)
median "(d) keyhound git of one cargo clone" "$RUNS" \
  "'$kh' git '$repos/cargo-0.git' -q --format json -o '$sink'" -
git_wall=$(tail -n 1 "$rows" | cut -f2)
# (It exits 1 if the history holds findings.)
enum=$({ KEYHOUND_TIMINGS=1 "$kh" git "$repos/cargo-0.git" -q --format json -o "$sink" 2>&1 >"$sink" || true; } \
  | sed -n 's/.* enumerate \([0-9.]*\) .*/\1/p')

echo
echo "## keyhound audit: $total repositories ($SYNTH synthetic of $COMMITS commits, $CLONES clones of $(basename "$CARGO_REPO")); $(nproc) cores"
echo
printf '| run | wall s | CPU s | peak RSS MiB | blobs seen | blobs scanned |\n|---|---:|---:|---:|---:|---:|\n'
awk -F'\t' '{ printf "| %s | %.2f | %.2f | %.0f | %s | %s |\n", $1, $2, $3, $4 / 1024, $5, $6 }' "$rows"
echo
awk -v one="$one_wall" -v first="$first_wall" -v again="$again_wall" -v clones="$clones_wall" \
  -v git="$git_wall" -v enum="$enum" -v n="$CLONES" -v same="$same" -v reused="${reused:-?}" -v total="$total" 'BEGIN {
  printf "| check | value | goal |\n|---|---:|---|\n"
  printf "| merged JSON of the shards = one-process JSON | %s | yes |\n", same
  printf "| re-run / first run (--state) | %.3f | well under 0.1 |\n", again / first
  printf "| repositories taken from the state on the re-run | %s of %s | all but one |\n", reused, total
  base = git + n * enum
  printf "| baseline: keyhound git of cargo + %d x enumerate (%.2f + %d x %.3f s) | %.2f s | |\n", n, git, n, enum, base
  printf "| %d clones / baseline | %.2fx | <= 1.3x |\n", n, clones / base
  printf "| one process of all, wall | %.2f s | |\n", one
}'
