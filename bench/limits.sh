#!/usr/bin/env bash
# What keyhound costs on inputs built to hurt it, before and after the limits work (issue 15):
#   1. long lines: minified-JavaScript-like text of 1, 4, 16 and 100 MiB as one line and as
#      many lines (the same bytes, `;` or newline between records); time and peak RSS. The goal
#      is linear time, one line under 2x many lines.
#   2. unbounded reads: stdin far over --max-file-size, settings files pointing at /dev/zero
#      and /dev/stdin, /proc/self, and history blobs over the limit whose pack entries are
#      small (2 GiB of zeros; a large blob stored as a small delta); time, peak RSS, exit code.
# One run per cell (they are long); "before" runs under a memory cap and a timeout, since the
# old binary grows without end or waits forever on some of these.
#
#   bench/limits.sh
#   KH=path/to/keyhound (default: build the release binary), BEFORE=path (default:
#   /tmp/baseline-out/keyhound-start if present; BEFORE= skips it), SIZES="1 4 16 100",
#   TIMEOUT=seconds per run (default 300), CAP_KIB=virtual memory cap of "before" runs
#   (default 6 GiB), WORK=dir for the inputs (default: a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "needs GNU time at /usr/bin/time"; exit 2; }
if [ -z "${KH:-}" ]; then
  cargo build --release -q -p keyhound-cli
fi
after=${KH:-$PWD/target/release/keyhound}
before=${BEFORE-/tmp/baseline-out/keyhound-start}
[ -n "$before" ] && [ ! -x "$before" ] && before=
sizes=${SIZES:-1 4 16 100}
timeout=${TIMEOUT:-300}
cap=${CAP_KIB:-6291456}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
[ -z "${WORK:-}" ] && trap 'rm -rf "$work"' EXIT

# measure capped|free STDIN COMMAND...: runs COMMAND under /usr/bin/time with a timeout (TO
# seconds, default TIMEOUT) and, for the old binary, a memory cap; STDIN is `none`, `held` (a
# pipe nobody writes to or closes) or a shell command whose output is fed in. Prints
# `wall-seconds cpu-seconds peak-MiB exit` (exit 124: timed out; 134 or 137: killed at the
# cap). CPU time (user + system) is what to compare on a shared machine.
measure() {
  local limit=$1 input=$2; shift 2
  local to=${TO:-$timeout} out code
  out=$(mktemp)
  set +e
  (
    [ "$limit" = capped ] && ulimit -v "$cap"
    run() { /usr/bin/time -f 'time %e %U %S %M' -o "$out" timeout "$to" "$@"; }
    case $input in
      none) run "$@" </dev/null ;;
      held) run "$@" < <(sleep $((to + 5))) ;;
      *) eval "$input" | run "$@" ;;
    esac
  ) >/dev/null 2>&1
  code=$?
  set -e
  local t cpu rss
  t=$(awk '/^time/ {print $2}' "$out")
  cpu=$(awk '/^time/ {printf "%.2f", $3 + $4}' "$out")
  rss=$(awk '/^time/ {printf "%.0f", $5 / 1024}' "$out")
  rm -f "$out"
  if [ "$code" -eq 124 ]; then t=">$to" cpu=">$to"; fi
  echo "${t:-?} ${cpu:-?} ${rss:-?} $code"
}

gen() { # gen SIZE_MIB oneline|multi OUT
  python3 - "$@" <<'PY'
import random, sys
size = int(float(sys.argv[1]) * (1 << 20)); mode = sys.argv[2]; out = sys.argv[3]
rng = random.Random(7)
A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
r = lambda n: "".join(rng.choice(A) for _ in range(n))
words = ["getSessionToken", "accessTokenValue", "currentUserSecret", "refreshTokenStore",
         "apiKeyFromConfig", "passwordFieldName"]
pool = []
for i in range(4000):
    rec = ('n.m%d={token:"%s",url:"https://cdn.example.com/assets/%s.js?v=%d",'
           'apiKey:this.cfg.key,f:function(e){return e.secret||"%s"}'
           % (i, rng.choice(words), r(8), i, rng.choice(words)))
    if i % 10 == 0:
        rec += ',q:"https%%3A%%2F%%2Fapi.example.com%%2Fv1%%2F%s",p:"\\u002fstatic\\u002f%s"' % (r(6), r(6))
    if i % 50 == 0:
        rec += ',password:"%s%d%s"' % (r(12), i % 97, r(12))
    pool.append(rec + "}")
sep = ";" if mode == "oneline" else "\n"
parts, total, i = [], 0, 0
while total < size:
    p = pool[i % len(pool)]; i += 1
    parts.append(p); total += len(p) + 1
open(out, "w").write(sep.join(parts)[:size])
PY
}

echo "## Long lines (wall s (CPU s) / peak MiB; one run each; the ratio is of CPU time)"
echo
if [ -n "$before" ]; then
  printf '| MiB | before one line | before many lines | after one line | after many lines | after one / many |\n|---|---|---|---|---|---|\n'
else
  printf '| MiB | after one line | after many lines | after one / many |\n|---|---|---|---|\n'
fi
for s in $sizes; do
  gen "$s" oneline "$work/one-$s.js"
  gen "$s" multi "$work/multi-$s.js"
  row="| $s |"
  if [ -n "$before" ]; then
    for m in one multi; do
      read -r t cpu rss _ < <(measure capped none "$before" scan -q -f jsonl -o /dev/null "$work/$m-$s.js")
      row="$row $t ($cpu) / $rss |"
    done
  fi
  read -r t1 c1 r1 _ < <(measure free none "$after" scan -q -f jsonl -o /dev/null "$work/one-$s.js")
  read -r t2 c2 r2 _ < <(measure free none "$after" scan -q -f jsonl -o /dev/null "$work/multi-$s.js")
  ratio=$(python3 -c "print(f'{float(\"$c1\") / max(float(\"$c2\"), 0.001):.2f}x')" 2>/dev/null || echo "?")
  echo "$row $t1 ($c1) / $r1 | $t2 ($c2) / $r2 | $ratio |"
  rm -f "$work/one-$s.js" "$work/multi-$s.js"
done

echo
echo "## Unbounded reads (wall s / peak MiB / exit; 124 = timed out, 134 or 137 = killed at the $((cap >> 20)) GiB cap)"
echo
# Settings files pointing where reading never ends or never starts.
mkdir -p "$work/zero" "$work/stdin"
echo "print('hi')" > "$work/zero/app.py"
echo "print('hi')" > "$work/stdin/app.py"
ln -sf /dev/zero "$work/zero/.keyhoundignore"
ln -sf /dev/stdin "$work/stdin/.keyhoundignore"
# History: 2 GiB of zeros (a pack entry of a few MB), and a large blob stored as a small
# delta of another.
hist_zeros=$work/zeros.git
if [ ! -d "$hist_zeros" ]; then
  git init -q "$hist_zeros"
  head -c $((2 << 30)) /dev/zero > "$hist_zeros/zeros.bin"
  git -C "$hist_zeros" add zeros.bin
  git -C "$hist_zeros" -c user.name=b -c user.email=b@example.com commit -qm zeros
  rm "$hist_zeros/zeros.bin"
  git -C "$hist_zeros" repack -adq
fi
hist_delta=$work/delta.git
if [ ! -d "$hist_delta" ]; then
  git init -q "$hist_delta"
  head -c $((1 << 20)) /dev/urandom | base64 -w 63 > "$work/chunk"
  for _ in $(seq 256); do cat "$work/chunk"; done > "$hist_delta/big.txt"
  git -C "$hist_delta" add big.txt
  git -C "$hist_delta" -c user.name=b -c user.email=b@example.com commit -qm big
  sed -i '10i changed' "$hist_delta/big.txt"
  git -C "$hist_delta" add big.txt
  git -C "$hist_delta" -c user.name=b -c user.email=b@example.com commit -qm changed
  rm "$hist_delta/big.txt"
  git -C "$hist_delta" repack -adq
fi
zeros_entry=$(git -C "$hist_zeros" verify-pack -v "$hist_zeros"/.git/objects/pack/*.idx | awk '$2 == "blob" {printf "%.1f MB", $4 / 1e6}')
delta_entry=$(git -C "$hist_delta" verify-pack -v "$hist_delta"/.git/objects/pack/*.idx | awk '$2 == "blob" && NF == 7 {printf "%.0f KB", $4 / 1e3}')

# Each case: name | directory to run in | stdin | timeout | arguments.
cases=(
  "stdin: 800 MiB, --max-file-size 1M|$work|head -c \$((800 << 20)) /dev/zero|$timeout|scan - --max-file-size 1M -q -f jsonl -o /dev/null"
  ".keyhoundignore -> /dev/zero|$work/zero|none|60|scan . -q -f jsonl -o /dev/null"
  ".keyhoundignore -> /dev/stdin (a silent pipe)|$work/stdin|held|30|scan . -q -f jsonl -o /dev/null"
  "scan /proc/self, --max-file-size 1M|$work|none|60|scan /proc/self --max-file-size 1M -q -f jsonl -o /dev/null"
  "history: 2 GiB of zeros (pack entry $zeros_entry)|$hist_zeros|none|$timeout|git . -q -f jsonl -o /dev/null"
  "history: 256 MiB blob stored as a $delta_entry delta|$hist_delta|none|$timeout|git . -q -f jsonl -o /dev/null"
)
if [ -n "$before" ]; then
  printf '| input | before | after |\n|---|---|---|\n'
else
  printf '| input | after |\n|---|---|\n'
fi
for c in "${cases[@]}"; do
  IFS='|' read -r name dir input to args <<<"$c"
  row="| $name |"
  for bin in ${before:+"$before"} "$after"; do
    limit=free
    [ "$bin" = "$before" ] && limit=capped
    # shellcheck disable=SC2086
    read -r t _ rss code < <(cd "$dir" && TO=$to measure "$limit" "$input" "$bin" $args)
    row="$row $t / $rss / $code |"
  done
  echo "$row"
done
