#!/usr/bin/env bash
# Recall on real repositories: keyhound and the peer scanners over the full history (every ref,
# pull-request refs included) of public LLM-application repositories, scored against labels made
# by reading every distinct string any of them reported, in context. The labels are in
# bench/recall/OWNER+NAME.tsv, one per repository:
#
#   # repo: OWNER/NAME
#   # snapshot: HEAD-COMMIT refs=N refs-digest=SHA256-OF-for-each-ref
#   HASH<TAB>LABEL<TAB>GROUP<TAB>REASON
#
# HASH is the first 16 hex digits of the SHA-256 of the string as a scanner reported it (never the
# string itself); LABEL is real, fixture or not-secret; GROUP is `-` or the HASH of another row
# when both strings are the same credential (a decoded form, a cut-short match, the id of a key
# pair), so that a credential counts once whichever string a scanner reports.
#
#   bench/recall.sh prepare [OWNER+NAME...]   mirror-clone each repository into $RECALL_REPOS
#   bench/recall.sh [--peers] [OWNER+NAME...] scan and print the tables
#   bench/recall.sh --unlabeled [OWNER+NAME...] also list what no label covers, to label it
#
# prepare clones from $RECALL_SOURCE/OWNER+NAME/repo (default /work/.mirror: the bare snapshots
# the `fetch` tool brings, with refs/pull/*), then points every object the snapshot lacks (files
# of 4 MiB and more are left out of it) at the empty blob with refs/replace, so that git-based
# scanners do not stop at the first missing blob; betterleaks ignores replace refs, so it is
# given a pathspec that leaves those paths out.
#
# Environment: RECALL_REPOS (default /tmp/recall-repos), RECALL_OUT (default /tmp/keyhound-recall:
# the reports, which hold the secrets: keep them out of the repository), KEYHOUND (a keyhound
# binary; default: this tree's release build), KEYHOUND_NAME (its row name, default keyhound).
# Without --peers, the peers' reports from an earlier run in RECALL_OUT are scored again.
#
# The scores: a real credential counts for keyhound when it is reported at high or medium
# confidence and not as a fixture (what fails a scan and what a person triages first); for the
# peers, when it is reported at all (gitleaks has no confidence levels). Not-secret strings count
# the same way: keyhound's at high or medium, the peers' all.
set -euo pipefail
cd "$(dirname "$0")/.."
RECALL_REPOS=${RECALL_REPOS:-/tmp/recall-repos}
RECALL_OUT=${RECALL_OUT:-/tmp/keyhound-recall}
RECALL_SOURCE=${RECALL_SOURCE:-/work/.mirror}
labels=$PWD/bench/recall

names_from_args() {
  if [ $# -gt 0 ]; then printf '%s\n' "$@"; else
    for f in "$labels"/*.tsv; do basename "$f" .tsv; done
  fi
}

if [ "${1:-}" = prepare ]; then
  shift
  mkdir -p "$RECALL_REPOS"
  for name in $(names_from_args "$@"); do
    dst=$RECALL_REPOS/$name.git
    [ -d "$dst" ] || git clone -q --mirror "$RECALL_SOURCE/$name/repo" "$dst"
    empty=$(git -C "$dst" hash-object -w --stdin </dev/null)
    GIT_NO_REPLACE_OBJECTS=1 git -C "$dst" rev-list --all --objects --missing=print 2>/dev/null |
      sed -n 's/^?//p' | while read -r oid; do git -C "$dst" update-ref "refs/replace/$oid" "$empty"; done
    git -C "$dst" for-each-ref --format='%(refname:strip=2)' refs/replace > "$dst/recall-missing"
    : > "$dst/recall-missing-paths"
    if [ -s "$dst/recall-missing" ]; then
      git -c core.quotePath=false -C "$dst" log --all --raw --no-abbrev --format= 2>/dev/null |
        grep -F -f "$dst/recall-missing" | awk -F'\t' '{ print $2 }' | sort -u > "$dst/recall-missing-paths" || true
    fi
    echo "$name: $(git -C "$dst" rev-parse HEAD), $(wc -l < "$dst/recall-missing") objects missing from the snapshot"
  done
  exit 0
fi

peers=0
unlabeled=0
while [ $# -gt 0 ]; do
  case $1 in
    --peers) peers=1; shift ;;
    --unlabeled) unlabeled=1; shift ;;
    *) break ;;
  esac
done
names=$(names_from_args "$@")

if [ -z "${KEYHOUND:-}" ]; then
  cargo build --release -q -p keyhound-cli
  KEYHOUND=$PWD/target/release/keyhound
fi
KEYHOUND_NAME=${KEYHOUND_NAME:-keyhound}
if [ "$peers" = 1 ] && [ -f bench/peers.sh ]; then
  # shellcheck source=/dev/null
  . bench/peers.sh
fi

for name in $names; do
  repo=$RECALL_REPOS/$name.git
  [ -d "$repo" ] || { echo "no $repo: run bench/recall.sh prepare $name" >&2; exit 2; }
  out=$RECALL_OUT/$name
  mkdir -p "$out"
  "$KEYHOUND" git "$repo" -q --no-redact --format json -o "$out/$KEYHOUND_NAME.json" 2>"$out/$KEYHOUND_NAME.err" || true
  if [ "$peers" = 1 ]; then
    export PEER_OUT=$out
    while IFS=$'\t' read -r tool cmd; do
      if [ "$tool" = betterleaks ]; then
        # The pathspec leaves out the paths of the blobs the snapshot lacks (see prepare).
        opts="--all"
        if [ -s "$repo/recall-missing-paths" ]; then
          opts="--all -- ."
          while read -r p; do opts="$opts :(exclude,glob)**/$(basename "$p")"; done < "$repo/recall-missing-paths"
        fi
        "$_PEER_BL" git "$repo" --no-banner --no-color -s --log-level error --exit-code 0 \
          --log-opts="$opts" -o "$out/betterleaks.json" >/dev/null 2>"$out/betterleaks.err" || true
      else
        bash -c "$cmd" >/dev/null 2>"$out/$tool.err" || true
      fi
    done < <(peer_history_cmds "$repo")
  fi
done

python3 - "$labels" "$RECALL_OUT" "$RECALL_REPOS" "$KEYHOUND_NAME" "$unlabeled" $names <<'PY'
import hashlib, json, os, subprocess, sys

labels_dir, out_dir, repos_dir, kh_name, show_unlabeled = sys.argv[1:6]
names = sys.argv[6:]

def h(s):
    return hashlib.sha256(s.encode()).hexdigest()[:16]

def load_labels(name):
    rows, meta = {}, {}
    for line in open(os.path.join(labels_dir, name + ".tsv"), encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("# repo:") or line.startswith("# snapshot:"):
            k, v = line[2:].split(":", 1)
            meta[k] = v.strip()
            continue
        if not line or line.startswith("#"):
            continue
        hash_, label, group, reason = line.split("\t", 3)
        rows[hash_] = (label, hash_ if group == "-" else group, reason)
    return rows, meta

def report(tool, path):
    """(secret, counts, where) for every finding of one report; counts says whether it counts."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    out = []
    if tool == "kingfisher":
        for x in d.get("findings", []):
            f = x["finding"]
            c = (f.get("git_metadata") or {}).get("commit") or {}
            out.append((f["snippet"], True, (f["path"], f["line"], c.get("id", ""))))
    elif tool == "betterleaks":
        for x in d.get("findings", []):
            out.append((x["match"]["value"], True,
                        (x["location"]["path"], x["location"]["start_line"], x["attributes"].get("git.sha", ""))))
    elif tool == "gitleaks":
        for x in d:
            out.append((x["Secret"], True, (x["File"], x["StartLine"], x["Commit"])))
    else:
        for x in d["findings"] if isinstance(d, dict) else d:
            l = x["locations"][0]
            counts = x["confidence"] in ("high", "medium") and x["fixture"] is None
            out.append((x["secret"], counts, (l["path"], l["line"], (l.get("commit") or {}).get("id", ""))))
    return out

tools = [kh_name] + [t for t in ("keyhound-before", "gitleaks", "betterleaks", "kingfisher") if t != kh_name]
results = {}   # tool -> name -> dict
unl = {}
for name in names:
    rows, meta = load_labels(name)
    repo = os.path.join(repos_dir, name + ".git")
    head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    want = meta.get("snapshot", "").split(" ")[0]
    if want and head != want:
        print(f"warning: {name} is at {head[:12]}, the labels were made at {want[:12]}", file=sys.stderr)
    real_groups = {g for (lab, g, _) in rows.values() if lab == "real"}
    for tool in tools:
        rep = report(tool, os.path.join(out_dir, name, tool + ".json"))
        if rep is None:
            continue
        real, fixture, notsecret, unlabeled = set(), set(), set(), {}
        for secret, counts, where in rep:
            hs = h(secret)
            if hs not in rows:
                unlabeled.setdefault(hs, (secret, where))
                continue
            if not counts:
                continue
            lab, group, _ = rows[hs]
            {"real": real, "fixture": fixture, "not-secret": notsecret}[lab].add(group if lab == "real" else hs)
        results.setdefault(tool, {})[name] = dict(real=len(real), of=len(real_groups), fixture=len(fixture),
                                                 notsecret=len(notsecret), unlabeled=len(unlabeled))
        for hs, v in unlabeled.items():
            unl.setdefault((name, hs), (tool, v))

def short(n):
    return n.split("+", 1)[1] if "+" in n else n

print(f"\n### Real credentials reported (distinct credentials; keyhound: high or medium, not fixture)\n")
print("| tool | " + " | ".join(short(n) for n in names) + " | total |")
print("|---" * (len(names) + 2) + "|")
totals_of = None
for tool in tools:
    if tool not in results:
        continue
    r = results[tool]
    cells = [f"{r[n]['real']}/{r[n]['of']}" if n in r else "-" for n in names]
    tot = sum(r[n]["real"] for n in names if n in r)
    of = sum(r[n]["of"] for n in names if n in r)
    print(f"| {tool} | " + " | ".join(cells) + f" | {tot}/{of} |")

print(f"\n### Not-secret strings reported (keyhound: at high or medium) / fixtures / unlabeled\n")
print("| tool | " + " | ".join(short(n) for n in names) + " | total |")
print("|---" * (len(names) + 2) + "|")
for tool in tools:
    if tool not in results:
        continue
    r = results[tool]
    cells = [f"{r[n]['notsecret']} / {r[n]['fixture']} / {r[n]['unlabeled']}" if n in r else "-" for n in names]
    t = [sum(r[n][k] for n in names if n in r) for k in ("notsecret", "fixture", "unlabeled")]
    print(f"| {tool} | " + " | ".join(cells) + f" | {t[0]} / {t[1]} / {t[2]} |")

if show_unlabeled == "1" and unl:
    print("\n### Unlabeled strings (label them in bench/recall/NAME.tsv)\n")
    for (name, hs), (tool, (secret, where)) in sorted(unl.items()):
        path, line, commit = where
        print(f"- {name} {hs} {tool} {path}:{line} {commit[:10]} {secret[:12]}…")
PY
