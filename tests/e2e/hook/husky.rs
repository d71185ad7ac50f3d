//! keyhound's hooks in repositories managed by husky (https://typicode.github.io/husky): the
//! layouts husky 8 and husky 9 write, reproduced file by file (the tests cannot `npm install`),
//! with real `git commit` and `git merge` runs through husky's own scripts.
//!
//! What husky writes, read from its published packages (MIT licence), husky 8.0.3
//! (`lib/index.js`, `husky.sh`) and husky 9.1.7 (`index.js`, `husky`):
//!
//! - husky 8: `husky install` sets `core.hooksPath=.husky` and writes `.husky/_/.gitignore`
//!   (`*`) and `.husky/_/husky.sh`; `husky add .husky/pre-commit CMD` writes an executable
//!   `.husky/pre-commit` that sources `_/husky.sh` (which runs the script again with `sh -e`).
//!   git runs `.husky/pre-commit` itself; the project commits it.
//! - husky 9: `husky` sets `core.hooksPath=.husky/_` and writes `.husky/_/.gitignore` (`*`),
//!   the runner library `.husky/_/h`, a deprecation stub `.husky/_/husky.sh`, and one runner per
//!   hook, `.husky/_/NAME`, that sources `h`; `h` runs the user's script `.husky/NAME` (found by
//!   the runner's file name) with `sh -e`. `husky init` writes `.husky/pre-commit` (not
//!   executable). Every `npm install` runs `husky` again, which rewrites `.husky/_`.

use std::path::Path;

use super::*;
use crate::util::*;

/// `husky.sh` of husky 8.0.3, which `husky install` copies to `.husky/_/husky.sh`.
const V8_HUSKY_SH: &str = r#"#!/usr/bin/env sh
if [ -z "$husky_skip_init" ]; then
  debug () {
    if [ "$HUSKY_DEBUG" = "1" ]; then
      echo "husky (debug) - $1"
    fi
  }

  readonly hook_name="$(basename -- "$0")"
  debug "starting $hook_name..."

  if [ "$HUSKY" = "0" ]; then
    debug "HUSKY env variable is set to 0, skipping hook"
    exit 0
  fi

  if [ -f ~/.huskyrc ]; then
    debug "sourcing ~/.huskyrc"
    . ~/.huskyrc
  fi

  readonly husky_skip_init=1
  export husky_skip_init
  sh -e "$0" "$@"
  exitCode="$?"

  if [ $exitCode != 0 ]; then
    echo "husky - $hook_name hook exited with code $exitCode (error)"
  fi

  if [ $exitCode = 127 ]; then
    echo "husky - command not found in PATH=$PATH"
  fi

  exit $exitCode
fi
"#;

/// The file `husky` of husky 9.1.7, which `husky` copies to `.husky/_/h`.
const V9_H: &str = r#"#!/usr/bin/env sh
[ "$HUSKY" = "2" ] && set -x
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n

[ ! -f "$s" ] && exit 0

if [ -f "$HOME/.huskyrc" ]; then
	echo "husky - '~/.huskyrc' is DEPRECATED, please move your code to ~/.config/husky/init.sh"
fi
i="${XDG_CONFIG_HOME:-$HOME/.config}/husky/init.sh"
[ -f "$i" ] && . "$i"

[ "${HUSKY-}" = "0" ] && exit 0

export PATH="node_modules/.bin:$PATH"
sh -e "$s" "$@"
c=$?

[ $c != 0 ] && echo "husky - $n script failed (code $c)"
[ $c = 127 ] && echo "husky - command not found in PATH=$PATH"
exit $c
"#;

/// What husky 9.1.7 writes to `.husky/_/husky.sh` (for scripts that still source it).
const V9_HUSKY_SH: &str = r#"echo "husky - DEPRECATED

Please remove the following two lines from $0:

#!/usr/bin/env sh
. \"\$(dirname -- \"\$0\")/_/husky.sh\"

They WILL FAIL in v10.0.0
""#;

/// The runner husky 9.1.7 writes for each hook, `.husky/_/NAME`.
const V9_RUNNER: &str = "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"";

/// The hooks husky 9.1.7 writes a runner for, in its order.
const V9_HOOKS: [&str; 14] = [
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-rebase",
    "post-rewrite",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-auto-gc",
];

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// What `husky install` then `husky add .husky/pre-commit CMD` of husky 8.0.3 write.
fn husky_8(d: &Path, cmd: &str) {
    git(d, &["config", "core.hooksPath", ".husky"]);
    write(d, ".husky/_/.gitignore", "*");
    write(d, ".husky/_/husky.sh", V8_HUSKY_SH);
    write(
        d,
        ".husky/pre-commit",
        format!("#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n\n{cmd}\n"),
    );
    chmod(&d.join(".husky/pre-commit"), 0o755);
}

/// What `husky` (the `prepare` script, run by every `npm install`) of husky 9.1.7 writes, or
/// of an older 9.x whose runners are `hooks`.
fn husky_9_runners(d: &Path, hooks: &[&str]) {
    git(d, &["config", "core.hooksPath", ".husky/_"]);
    let _ = std::fs::remove_file(d.join(".husky/_/husky.sh"));
    write(d, ".husky/_/.gitignore", "*");
    write(d, ".husky/_/h", V9_H);
    for hook in hooks {
        let runner = format!(".husky/_/{hook}");
        write(d, &runner, V9_RUNNER);
        chmod(&d.join(runner), 0o755);
    }
    write(d, ".husky/_/husky.sh", V9_HUSKY_SH);
}

/// husky 9.1.7 after `husky init`, with `script` as the user's `.husky/pre-commit` (which
/// `husky init` writes with the default mode: not executable).
fn husky_9(d: &Path, script: &str) {
    husky_9_runners(d, &V9_HOOKS);
    write(d, ".husky/pre-commit", script);
    chmod(&d.join(".husky/pre-commit"), 0o644);
}

/// A user's husky command that records that it ran.
fn record(label: &str) -> String {
    format!("echo \"{label}\" >> \"$(git rev-parse --git-dir)/user-ran\"\n")
}

fn ran(d: &Path) -> Vec<String> {
    std::fs::read_to_string(d.join(".git/user-ran"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A repository with one commit, set up with `layout` and committed as a project would (husky's
/// `.husky/_` ignores itself).
fn husky_repo(layout: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    layout(d);
    commit_all(d, "husky");
    let _ = std::fs::remove_file(d.join(".git/user-ran"));
    dir
}

#[test]
fn husky_9_scripts_keep_running_and_keyhound_blocks_keys() {
    let dir = husky_repo(|d| husky_9(d, &record("user pre-commit")));
    let d = dir.path();
    let env = keyhound_on_path();
    let env = [("PATH", env.as_str())];
    let runners = snapshot(&d.join(".husky/_"));
    let before = snapshot(&d.join(".husky"));
    let said = install(d, &[]);
    assert!(said.contains(".husky/pre-commit"), "{said}");
    assert_eq!(
        snapshot(&d.join(".husky/_")),
        runners,
        "husky's runners are left to husky"
    );
    assert_no_machine_path(&d.join(".husky"));
    let status = hook_status(d);
    assert!(status.contains("husky 9"), "{status}");
    assert!(status.contains("pre-commit: keyhound"), "{status}");

    // A clean commit: husky runs keyhound's script, which runs the user's, then checks.
    write(d, "a.txt", "a\n");
    git(d, &["add", "a.txt"]);
    let out = git_output(d, &["commit", "-m", "a"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ran(d), ["user pre-commit"], "{}", text(&out));
    // A key is stopped.
    write(d, "k.env", key_line(&openai_project_key()));
    git(d, &["add", "k.env"]);
    let head_before = head(d);
    let out = git_output(d, &["commit", "-m", "key"], &env);
    assert_blocked(d, &out, head_before.as_deref());
    assert!(text(&out).contains("k.env:1:"), "{}", text(&out));
    // Every `npm install` runs husky again, which rewrites .husky/_: keyhound is still there.
    husky_9_runners(d, &V9_HOOKS);
    let out = git_output(d, &["commit", "-m", "key"], &env);
    assert_blocked(d, &out, head_before.as_deref());
    // The user's script still decides too.
    git(d, &["rm", "-q", "--cached", "k.env"]);
    std::fs::write(d.join(".husky/pre-commit.keyhound-chained"), "exit 3\n").unwrap();
    let out = git_output(d, &["commit", "--allow-empty", "-m", "empty"], &env);
    assert_blocked(d, &out, head_before.as_deref());
    std::fs::write(
        d.join(".husky/pre-commit.keyhound-chained"),
        record("user pre-commit"),
    )
    .unwrap();

    // Uninstall puts .husky back as it was: nothing for git to see.
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&d.join(".husky")), before);
    assert_eq!(git(d, &["status", "--porcelain", "--", ".husky"]), "");
}

#[test]
fn husky_9_merges_are_checked_through_its_pre_merge_commit_runner() {
    let dir = husky_repo(|d| husky_9(d, &record("user pre-commit")));
    let d = dir.path();
    let env = keyhound_on_path();
    let env = [("PATH", env.as_str())];
    install(d, &[]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(d, "deploy.env", key_line(&openai_project_key()));
    git(d, &["add", "deploy.env"]);
    let out = git_output(d, &["commit", "--no-verify", "-m", "key"], &env);
    assert!(out.status.success(), "{}", text(&out));
    git(d, &["checkout", "-q", "main"]);
    let before = head(d);
    let out = git_output(d, &["merge", "--no-ff", "--no-edit", "feature"], &env);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("deploy.env:1:"), "{}", text(&out));
}

#[test]
fn husky_9_before_9_1_5_has_no_pre_merge_commit_runner_and_install_says_so() {
    let older: Vec<&str> = V9_HOOKS
        .into_iter()
        .filter(|h| *h != "pre-merge-commit")
        .collect();
    let dir = husky_repo(|d| {
        husky_9_runners(d, &older);
        write(d, ".husky/pre-commit", record("user pre-commit"));
    });
    let d = dir.path();
    let said = install(d, &[]);
    assert!(
        said.contains("husky has no") && said.contains(".husky/_/pre-merge-commit"),
        "{said}"
    );
    let status = hook_status(d);
    assert!(status.contains("git does not run it"), "{status}");
}

#[test]
fn husky_8_scripts_keep_running_and_hold_no_machine_path() {
    let dir = husky_repo(|d| husky_8(d, &record("user pre-commit")));
    let d = dir.path();
    let env = keyhound_on_path();
    let env = [("PATH", env.as_str())];
    let before = snapshot(&d.join(".husky"));
    let said = install(d, &[]);
    assert!(said.contains(".husky/pre-commit"), "{said}");
    assert!(said.contains("shared through git"), "{said}");
    assert_no_machine_path(&d.join(".husky"));
    assert!(hook_status(d).contains("husky 8"));

    write(d, "a.txt", "a\n");
    git(d, &["add", "a.txt"]);
    let out = git_output(d, &["commit", "-m", "a"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(ran(d), ["user pre-commit"], "{}", text(&out));
    write(d, "k.env", key_line(&openai_project_key()));
    git(d, &["add", "k.env"]);
    let head_before = head(d);
    let out = git_output(d, &["commit", "-m", "key"], &env);
    assert_blocked(d, &out, head_before.as_deref());
    assert!(text(&out).contains("k.env:1:"), "{}", text(&out));
    git(d, &["rm", "-q", "--cached", "k.env"]);

    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&d.join(".husky")), before);
    assert_eq!(git(d, &["status", "--porcelain", "--", ".husky"]), "");
}
