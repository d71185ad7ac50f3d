#!/usr/bin/env bash
# The pre-commit check, timed in one run (hyperfine, warm cache) on a one-file staged change in
# a scratch clone of REPO: `keyhound git --staged` on a clean change and on one adding a fake
# key, the installed hook inside a real `git commit`, `git diff --cached` (the floor), `git
# commit` with no hook, every peer scanner installed (bench/peers.sh), the fallbacks (no cached
# tree, libgit2, the git CLI for split and sparse indexes) and a 5,000-file change. Prints a
# table of medians and peak RSS.
#   bench/hook.sh [REPO]      default /tmp/bench-repos/cargo (a clone of rust-lang/cargo)
#   BENCH_FILE=path           the tracked file to change (default: the first of src/cargo/lib.rs,
#                             src/lib.rs, README.md that exists)
#   BENCH_RUNS=N              runs per command (default 40)
#   KEYHOUND_BASE=path        another keyhound binary (before a change): its rows follow keyhound's
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
repo_src=${1:-/tmp/bench-repos/cargo}
[ -d "$repo_src" ] || { echo "no repository at $repo_src"; exit 2; }
runs=${BENCH_RUNS:-40}
cargo build --release -q -p keyhound-cli
kh=$PWD/target/release/keyhound
. bench/peers.sh

work=$(mktemp -d /tmp/keyhound-hook-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
git clone -q "$repo_src" "$repo"
cd "$repo"
git config user.name bench
git config user.email bench@example.com
git config commit.gpgsign false
mkdir -p "$work/no-hooks"
git config core.hooksPath "$work/no-hooks"
base=$(git rev-parse HEAD)
files_at_head=$(git ls-files | wc -l)
file=${BENCH_FILE:-}
if [ -z "$file" ]; then
  for f in src/cargo/lib.rs src/lib.rs README.md; do [ -f "$f" ] && { file=$f; break; }; done
fi
[ -n "$file" ] || { echo "set BENCH_FILE to a tracked file"; exit 2; }
cp "$file" "$work/original"

# A fake OpenAI project key made now: the repository holds no key-shaped literal.
b64url() {
  local s=""
  while [ ${#s} -lt "$1" ]; do s+=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9_-'); done
  printf '%s' "${s:0:$1}"
}
key="sk-proj-$(b64url 74)$(printf 'T3Bl%s' bkFJ)$(b64url 74)"

stage_clean() { cp "$work/original" "$file"; echo "// keyhound bench: a clean line" >> "$file"; git add "$file"; }
stage_key() { cp "$work/original" "$file"; echo "const OPENAI_API_KEY: &str = \"$key\";" >> "$file"; git add "$file"; }

results=$work/results.tsv
: > "$results"
# time NAME [hyperfine options...] COMMAND: one hyperfine run, median in ms appended to the table.
time_one() {
  local name=$1; shift
  local json=$work/h.json
  hyperfine --warmup 3 --runs "$runs" -i --export-json "$json" "$@" >/dev/null 2>&1 || {
    printf '%s\tfailed\n' "$name" >> "$results"; return 0; }
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%s\t%.1f" % (sys.argv[2], r["median"]*1000))' \
    "$json" "$name" >> "$results"
}
rss() { /usr/bin/time -f %M "$@" >/dev/null 2>"$work/rss" || true; tail -1 "$work/rss"; }

stage_clean
time_one "git diff --cached -U0 (the floor)" -N "git diff --cached -U0"
time_one "keyhound git --staged, clean change" -N "$kh git --staged -q"
rss_clean=$(rss "$kh" git --staged -q)
if [ -n "${KEYHOUND_BASE:-}" ]; then
  time_one "base: keyhound git --staged, clean change (peak RSS $(rss "$KEYHOUND_BASE" git --staged -q) KiB)" \
    -N "$KEYHOUND_BASE git --staged -q"
fi
while IFS=$'\t' read -r name cmd; do
  time_one "$name --staged, clean change (under unshare -n)" -N "$cmd"
done < <(peer_staged_cmds "$repo")
time_one "git commit, no hook" --prepare "git reset -q --soft $base" "git commit -q -m bench"

stage_key
time_one "keyhound git --staged, key change" -N "$kh git --staged -q"
rss_key=$(rss "$kh" git --staged -q)
if [ -n "${KEYHOUND_BASE:-}" ]; then
  time_one "base: keyhound git --staged, key change (peak RSS $(rss "$KEYHOUND_BASE" git --staged -q) KiB)" \
    -N "$KEYHOUND_BASE git --staged -q"
fi
while IFS=$'\t' read -r name cmd; do
  time_one "$name --staged, key change (under unshare -n)" -N "$cmd"
done < <(peer_staged_cmds "$repo")

# What git itself adds for running any pre-commit hook (it writes and re-reads the index).
printf '#!/bin/sh\nexit 0\n' > "$work/no-hooks/pre-commit"
chmod +x "$work/no-hooks/pre-commit"
stage_clean
time_one "git commit with an empty hook (exit 0)" --prepare "git reset -q --soft $base" "git commit -q -m bench"
rm "$work/no-hooks/pre-commit"
git config --unset core.hooksPath
"$kh" hook install >/dev/null
stage_clean
time_one "git commit with the keyhound hook, clean change" --prepare "git reset -q --soft $base" "git commit -q -m bench"
stage_key
time_one "git commit with the keyhound hook, key change (blocked)" --prepare "git reset -q --soft $base" "git commit -q -m bench"
"$kh" hook uninstall >/dev/null

# The fallbacks, on the clean change.
stage_clean
time_one "fallback: libgit2 tree-to-index diff" -N "env KEYHOUND_STAGED_DIFF=libgit2 $kh git --staged -q"
time_one "fallback: git diff-index (split or sparse index)" -N "env KEYHOUND_STAGED_DIFF=git $kh git --staged -q"
cp .git/index "$work/index-no-cached-tree"
GIT_INDEX_FILE=$work/index-no-cached-tree git rm -q -r --cached .
GIT_INDEX_FILE=$work/index-no-cached-tree git add -A
time_one "fallback: index without cached trees" -N "env GIT_INDEX_FILE=$work/index-no-cached-tree $kh git --staged -q"
git update-index --split-index
time_one "split index (auto: falls back to git)" -N "$kh git --staged -q"
git update-index --no-split-index

# A 5,000-file change (new files, one with the key).
mkdir -p bench-many
for i in $(seq 1 5000); do echo "value_$i = $((i * 7))" > "bench-many/f$i.txt"; done
echo "OPENAI_API_KEY=$key" > bench-many/f4321.txt
git add bench-many
time_one "keyhound git --staged, 5,000 new files (one key)" -N "$kh git --staged -q"
time_one "git diff --cached -U0, 5,000 new files" -N "git diff --cached -U0"
rss_many=$(rss "$kh" git --staged -q)

floor=$(awk -F'\t' 'NR==1 {print $2}' "$results")
echo
echo "repository: $repo_src ($files_at_head files at HEAD), change: one line appended to $file"
echo "runs: $runs per command, median wall time; ratio to \`git diff --cached -U0\` on the same change"
echo
printf '| command | median ms | x git diff --cached |\n|---|---|---|\n'
awk -F'\t' -v floor="$floor" '{
  if ($2 == "failed") printf "| %s | failed | |\n", $1;
  else printf "| %s | %s | %.1f |\n", $1, $2, $2 / floor }' "$results"
echo
echo "peak RSS of keyhound git --staged: clean change ${rss_clean} KiB, key change ${rss_key} KiB, 5,000 files ${rss_many} KiB"
