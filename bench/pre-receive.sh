#!/usr/bin/env bash
# The server-side gate, timed (hyperfine, warm cache) with real `git push`es to bare copies of
# REPO: one server without hooks and one with keyhound's pre-receive hook installed.
#   1. a one-commit push (a fast-forward of main changing one file), without and with the hook
#      (goal: the hook adds at most 15 ms);
#   2. the first push of a new branch carrying about 1,000 commits of REPO's real history that
#      the server does not have, without and with the hook, against `keyhound git --range`
#      over the same commits in the client (goal: the hook's cost within 1.5x of it).
# The servers start from a commit about 1,000 commits behind REPO's HEAD, with REPO's tags of
# that history. Prints a table of medians.
#   bench/pre-receive.sh [REPO]   default /tmp/bench-repos/cargo (a clone of rust-lang/cargo)
#   BENCH_RUNS=N                  runs of the one-commit push (default 20; the big push: N/4)
#   BENCH_COMMITS=N               commits of the new branch (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
repo_src=${1:-/tmp/bench-repos/cargo}
[ -d "$repo_src" ] || { echo "no repository at $repo_src"; exit 2; }
runs=${BENCH_RUNS:-20}
big_runs=$(( runs / 4 > 3 ? runs / 4 : 3 ))
want=${BENCH_COMMITS:-1000}
cargo build --release -q -p keyhound-cli
kh=$PWD/target/release/keyhound

work=$(mktemp -d /tmp/keyhound-prerecv-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Nobody's git config but this script's.
export HOME=$work GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench
git config --global user.email bench@example.com
git config --global commit.gpgsign false
git config --global init.defaultBranch main

client=$work/client
git clone -q "$repo_src" "$client"
tip=$(git -C "$client" rev-parse HEAD)
# The base: the first HEAD~N with at least $want commits in base..HEAD.
n=$(( want / 4 ))
while :; do
  base=$(git -C "$client" rev-parse "HEAD~$n")
  count=$(git -C "$client" rev-list --count "$base..$tip")
  [ "$count" -ge "$want" ] && break
  n=$(( n + 5 ))
done
echo "new branch: $count commits ($base..$tip)" >&2

# A server that has the history up to the base only.
git -C "$client" branch -q bench-base "$base"
git clone -q --bare --single-branch --branch bench-base --no-tags "file://$client" "$work/plain.git"
git -C "$work/plain.git" branch -q -m bench-base main
git -C "$work/plain.git" symbolic-ref HEAD refs/heads/main
# A real server holds more refs than one branch: the tags of that history too (a walk that
# leaves out what every ref reaches must not pay for each of them).
tags=$(git -C "$client" tag --merged "$base" | sed 's|^|refs/tags/|')
if [ -n "$tags" ]; then
  # shellcheck disable=SC2086
  git -C "$client" push -q "$work/plain.git" $tags
fi
refs=$(git -C "$work/plain.git" for-each-ref | wc -l)
echo "server: $refs refs" >&2
cp -a "$work/plain.git" "$work/hook.git"
# A budget far above the default, so that the big push measures the whole scan.
"$kh" hook install --pre-receive --budget 600 "$work/hook.git" >/dev/null

# One work tree per server, each on a branch at the base, so every push is one commit.
for s in plain hook; do
  git -C "$client" worktree add -q -b "one-$s" "$work/wt-$s" "$base"
  git -C "$work/wt-$s" push -q "$work/$s.git" "one-$s:refs/heads/main" 2>/dev/null || true
done
file=README.md
[ -f "$work/wt-plain/$file" ] || file=$(git -C "$client" ls-files | head -n 1)

results=$work/results
mkdir "$results"
hf() { # name, runs, prepare, command
  hyperfine -N -i --style none --runs "$2" --warmup 1 --prepare "$3" --export-json "$results/$1.json" "$4" >/dev/null
}
for s in plain hook; do
  hf "one-$s" "$runs" \
    "sh -c 'cd $work/wt-$s && echo \"bench \$(date +%s%N)\" >> $file && git commit -q -a -m bench'" \
    "git -C $work/wt-$s push -q $work/$s.git one-$s:refs/heads/main"
  hf "big-$s" "$big_runs" \
    "sh -c 'git -C $work/$s.git update-ref -d refs/heads/big || true'" \
    "git -C $client push -q $work/$s.git $tip:refs/heads/big"
done
hf range "$big_runs" "true" "$kh git --range $base..$tip --quiet -o /dev/null $client"
# Did the big push pass the gate (a finding in the real history rejects it)?
git -C "$work/hook.git" update-ref -d refs/heads/big 2>/dev/null || true
if git -C "$client" push -q "$work/hook.git" "$tip:refs/heads/big" 2>"$work/big.err"; then
  verdict=accepted
else
  verdict="rejected ($(grep -c 'fingerprint ' "$work/big.err" || true) findings)"
fi

python3 - "$results" "$count" "$verdict" <<'PY'
import json, sys
d, count, verdict = sys.argv[1], sys.argv[2], sys.argv[3]
m = {k: json.load(open(f"{d}/{k}.json"))["results"][0]["median"] * 1000
     for k in ["one-plain", "one-hook", "big-plain", "big-hook", "range"]}
rows = [
    ("git push, one commit, no hook", m["one-plain"]),
    ("git push, one commit, keyhound pre-receive", m["one-hook"]),
    ("  the hook's cost (goal <= 15 ms)", m["one-hook"] - m["one-plain"]),
    (f"git push, new branch of {count} commits, no hook", m["big-plain"]),
    (f"git push, new branch of {count} commits, keyhound pre-receive", m["big-hook"]),
    ("  the hook's cost", m["big-hook"] - m["big-plain"]),
    (f"keyhound git --range over the same {count} commits", m["range"]),
]
print("| case | median ms |\n|---|---:|")
for name, v in rows:
    print(f"| {name} | {v:.1f} |")
print(f"| hook cost / --range (goal <= 1.5) | {(m['big-hook'] - m['big-plain']) / m['range']:.2f} |")
print(f"\nthe big push through the hook: {verdict}")
PY
