//! End-to-end tests: `keyhound hook install|uninstall|status` and the installed hooks inside
//! real `git commit`, `git merge` and `git push` runs. The hooks run the binary under test:
//! install records the path of the binary that installed them (or, in a hooks directory shared
//! through git, the hooks find it on PATH, which the tests then set).

mod framework;
mod husky;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

/// PATH with the binary under test first: for hooks that look keyhound up there.
fn keyhound_on_path() -> String {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    format!(
        "{}:{}",
        bin.parent().expect("binary has a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn hook_status(d: &Path) -> String {
    let out = keyhound_in(d).args(["hook", "status"]).assert().success();
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// No file under `dir` names the binary under test or its directory: nothing of this machine
/// went into files that git shares.
fn assert_no_machine_path(dir: &Path) {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let bin_dir = bin.parent().unwrap().to_string_lossy().into_owned();
    for (name, (content, _)) in snapshot(dir) {
        let content = String::from_utf8_lossy(&content);
        assert!(
            !content.contains(&bin_dir),
            "{name} names this machine's binary:\n{content}"
        );
    }
}

fn install(d: &Path, args: &[&str]) -> String {
    let out = keyhound_in(d)
        .args(["hook", "install"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("UTF-8 output")
}

fn commit(d: &Path, args: &[&str]) -> Output {
    let mut all = vec!["commit", "-m", "change"];
    all.extend_from_slice(args);
    git_output(d, &all, &[])
}

fn head(d: &Path) -> Option<String> {
    let out = git_output(d, &["rev-parse", "--verify", "-q", "HEAD"], &[]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `git ls-files --stage`: the index as git sees it.
fn index(d: &Path) -> String {
    git(d, &["ls-files", "--stage"])
}

/// A repository with one commit and keyhound's pre-commit hook.
fn repo_with_hook() -> tempfile::TempDir {
    let dir = init_repo();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "init");
    install(dir.path(), &[]);
    dir
}

fn assert_blocked(d: &Path, out: &Output, before: Option<&str>) {
    let t = text(out);
    assert!(!out.status.success(), "commit should be blocked:\n{t}");
    assert_eq!(head(d).as_deref(), before, "no commit may be created:\n{t}");
}

#[test]
fn commit_with_a_key_is_blocked_and_the_index_untouched() {
    let dir = repo_with_hook();
    let d = dir.path();
    let key = openai_project_key();
    write(d, "app/.env", format!("DEBUG=1\n{}", key_line(&key)));
    git(d, &["add", "app/.env"]);
    let (before, staged) = (head(d), index(d));
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
    assert_eq!(index(d), staged, "the index must be left as it was");
    let t = text(&out);
    assert!(t.contains("app/.env:2:16: openai-project-key"), "{t}");
    let tail = &key[key.len() - 4..];
    assert!(
        t.contains(&format!("sk-proj-…{tail}")),
        "redacted key shown: {t}"
    );
    assert!(
        !t.contains(&key[12..]),
        "the key leaked into the output: {t}"
    );
    for advice in [
        "environment variable",
        "secrets manager",
        "revoke",
        "rotate",
        "keyhound:allow",
        "git commit --no-verify",
    ] {
        assert!(t.contains(advice), "advice `{advice}` missing: {t}");
    }
}

#[test]
fn commit_without_a_key_is_allowed_quietly() {
    let dir = repo_with_hook();
    let d = dir.path();
    write(d, "src/main.rs", "fn main() { println!(\"hi\"); }\n");
    git(d, &["add", "-A"]);
    let before = head(d);
    let out = commit(d, &["-q"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(head(d), before);
    assert_eq!(text(&out), "", "a clean commit prints nothing");
}

#[test]
fn commit_with_keyhound_allow_on_the_line_is_allowed() {
    let dir = repo_with_hook();
    let d = dir.path();
    let line = format!("OPENAI_API_KEY={} # keyhound:allow\n", openai_project_key());
    write(d, "docs/example.sh", line);
    git(d, &["add", "-A"]);
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn partial_staging_only_the_unstaged_part_has_the_key_is_allowed() {
    let dir = repo_with_hook();
    let d = dir.path();
    let key = openai_project_key();
    // What `git add -p` leaves: the index has the first hunk, the working tree also the key.
    write(d, "settings.py", "DEBUG = False\n");
    git(d, &["add", "settings.py"]);
    write(
        d,
        "settings.py",
        format!("DEBUG = False\n{}", key_line(&key)),
    );
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let committed = git(d, &["show", "HEAD:settings.py"]);
    assert_eq!(committed, "DEBUG = False\n");
    assert!(std::fs::read_to_string(d.join("settings.py"))
        .unwrap()
        .contains(&key));
}

#[test]
fn partial_staging_only_the_staged_part_has_the_key_is_blocked() {
    let dir = repo_with_hook();
    let d = dir.path();
    let key = openai_project_key();
    write(
        d,
        "settings.py",
        format!("DEBUG = False\n{}", key_line(&key)),
    );
    git(d, &["add", "settings.py"]);
    // The working tree no longer has the key; the index still does.
    write(
        d,
        "settings.py",
        "DEBUG = False\nKEY = os.environ['OPENAI_API_KEY']\n",
    );
    let before = head(d);
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("settings.py:2:"), "{}", text(&out));
}

/// Everything under a directory (links not followed): relative path → (content, link target
/// or nothing for a directory; mode).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, u32)>) {
        use std::os::unix::fs::PermissionsExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.expect("directory entry");
            let meta = std::fs::symlink_metadata(e.path()).expect("metadata");
            let content = if meta.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .expect("link target")
                    .to_string_lossy()
                    .as_bytes()
                    .to_vec()
            } else if meta.is_dir() {
                walk(root, &e.path(), out);
                Vec::new()
            } else {
                std::fs::read(e.path()).expect("hook readable")
            };
            let name = e.path().strip_prefix(root).unwrap().display().to_string();
            out.insert(name, (content, meta.permissions().mode()));
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn hooks_dir(d: &Path) -> PathBuf {
    d.join(".git/hooks")
}

/// An existing hook that records that it ran (and exits with `code`).
fn foreign_hook(path: &Path, code: i32) {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\necho \"$0 $*\" >> \"$(git rev-parse --git-dir)/foreign-ran\"\nexit {code}\n"
    );
    std::fs::write(path, script).expect("hook written");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn existing_hook_is_kept_and_still_runs() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    foreign_hook(&hooks_dir(d).join("pre-commit"), 0);
    let original = std::fs::read(hooks_dir(d).join("pre-commit")).unwrap();
    let said = install(d, &[]);
    assert!(said.contains("kept as"), "{said}");
    assert_eq!(
        std::fs::read(hooks_dir(d).join("pre-commit.keyhound-chained")).unwrap(),
        original
    );
    write(d, "a.txt", "a\n");
    git(d, &["add", "-A"]);
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let ran = std::fs::read_to_string(d.join(".git/foreign-ran")).unwrap();
    assert_eq!(ran.lines().count(), 1, "{ran}");
    // The earlier hook still decides too: when it fails, the commit stops.
    foreign_hook(&hooks_dir(d).join("pre-commit.keyhound-chained"), 3);
    write(d, "b.txt", "b\n");
    git(d, &["add", "-A"]);
    let before = head(d);
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
    // And keyhound still blocks a key when the earlier hook passes.
    foreign_hook(&hooks_dir(d).join("pre-commit.keyhound-chained"), 0);
    write(d, "c.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("c.env:1:"), "{}", text(&out));
}

#[test]
fn core_hooks_path_is_honoured() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    git(d, &["config", "core.hooksPath", ".githooks"]);
    let said = install(d, &[]);
    assert!(said.contains(".githooks/pre-commit"), "{said}");
    assert!(d.join(".githooks/pre-commit").is_file());
    assert!(!hooks_dir(d).join("pre-commit").exists());
    let status = keyhound_in(d).args(["hook", "status"]).assert().success();
    let status = String::from_utf8_lossy(&status.get_output().stdout).into_owned();
    assert!(status.contains("(core.hooksPath)"), "{status}");
    assert!(status.contains("pre-commit: keyhound"), "{status}");
    // .githooks is in the work tree and not ignored: the hook finds keyhound on PATH.
    assert_no_machine_path(&d.join(".githooks"));
    write(d, "k.env", key_line(&openai_project_key()));
    git(d, &["add", "k.env"]);
    let before = head(d);
    let path = keyhound_on_path();
    let out = git_output(d, &["commit", "-m", "key"], &[("PATH", path.as_str())]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("k.env:1:"), "{}", text(&out));
    // Install created the directory, so uninstall removes it again.
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!d.join(".githooks").exists());
}

#[test]
fn installing_twice_is_a_no_op() {
    let dir = init_repo();
    let d = dir.path();
    foreign_hook(&hooks_dir(d).join("pre-commit"), 0);
    install(d, &["--pre-push"]);
    let once = snapshot(&hooks_dir(d));
    let said = install(d, &["--pre-push"]);
    assert!(said.contains("pre-commit: already installed"), "{said}");
    assert!(said.contains("pre-push: already installed"), "{said}");
    assert_eq!(snapshot(&hooks_dir(d)), once);
    assert!(!hooks_dir(d)
        .join("pre-commit.keyhound-chained.keyhound-chained")
        .exists());
}

#[test]
fn uninstall_restores_exactly_what_was_there() {
    let dir = init_repo();
    let d = dir.path();
    let hooks = hooks_dir(d);
    foreign_hook(&hooks.join("pre-commit"), 0);
    foreign_hook(&hooks.join("pre-merge-commit"), 0);
    std::fs::write(hooks.join("shared-push-hook"), "#!/bin/sh\nexit 0\n").unwrap();
    std::os::unix::fs::symlink("shared-push-hook", hooks.join("pre-push")).unwrap();
    let before = snapshot(&hooks);
    install(d, &["--pre-push"]);
    assert_ne!(snapshot(&hooks), before);
    let status = keyhound_in(d).args(["hook", "status"]).assert().success();
    let status = String::from_utf8_lossy(&status.get_output().stdout).into_owned();
    assert!(status.contains("pre-push: keyhound"), "{status}");
    assert!(status.contains("pre-merge-commit: keyhound"), "{status}");
    assert!(
        status.contains("pre-commit.keyhound-chained first"),
        "{status}"
    );
    assert!(
        status.contains("pre-merge-commit.keyhound-chained first"),
        "{status}"
    );
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&hooks), before);
    let status = keyhound_in(d).args(["hook", "status"]).assert().success();
    let status = String::from_utf8_lossy(&status.get_output().stdout).into_owned();
    assert!(
        status.contains("pre-commit: not installed (another hook is there)"),
        "{status}"
    );
    // Uninstalling again changes nothing.
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&hooks), before);
}

#[test]
fn first_commit_is_checked() {
    let dir = init_repo();
    let d = dir.path();
    install(d, &[]);
    write(d, "init.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let out = commit(d, &[]);
    assert_blocked(d, &out, None);
    git(d, &["rm", "-q", "--cached", "init.env"]);
    write(d, "README.md", "hello\n");
    git(d, &["add", "README.md"]);
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(head(d).is_some());
}

#[test]
fn merge_commit_is_checked() {
    let dir = repo_with_hook();
    let d = dir.path();
    write(d, "f.txt", "base\n");
    commit_all(d, "base");
    git(d, &["checkout", "-q", "-b", "other"]);
    write(d, "f.txt", "theirs\n");
    write(d, "other.txt", "from the other branch\n");
    commit_all(d, "theirs");
    git(d, &["checkout", "-q", "main"]);
    write(d, "f.txt", "ours\n");
    commit_all(d, "ours");
    assert!(!git_output(d, &["merge", "-q", "other"], &[])
        .status
        .success());
    // A resolution that adds a key is stopped; the merge stays in progress.
    write(
        d,
        "f.txt",
        format!("ours\n{}", key_line(&openai_project_key())),
    );
    git(d, &["add", "f.txt"]);
    let before = head(d);
    let out = git_output(d, &["commit", "--no-edit"], &[]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("f.txt:2:"), "{}", text(&out));
    assert!(d.join(".git/MERGE_HEAD").exists());
    // A clean resolution is committed, with both parents.
    write(d, "f.txt", "ours and theirs\n");
    git(d, &["add", "f.txt"]);
    let out = git_output(d, &["commit", "--no-edit"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let parents = git(d, &["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2);
}

#[test]
fn commit_all_and_commit_paths_use_the_temporary_index() {
    let dir = repo_with_hook();
    let d = dir.path();
    write(d, "tracked.env", "A=1\n");
    commit_all(d, "tracked");
    // The key is only in the working tree: a plain commit of something else is fine…
    write(
        d,
        "tracked.env",
        format!("A=1\n{}", key_line(&openai_project_key())),
    );
    write(d, "other.txt", "x\n");
    git(d, &["add", "other.txt"]);
    let out = commit(d, &["-q"]);
    assert!(out.status.success(), "{}", text(&out));
    // …but `git commit -a` takes it (git points GIT_INDEX_FILE at a temporary index)…
    let before = head(d);
    let out = commit(d, &["-a"]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("tracked.env:2:"), "{}", text(&out));
    // …and so does `git commit PATH` (another temporary index).
    let out = commit(d, &["--", "tracked.env"]);
    assert_blocked(d, &out, before.as_deref());
    assert_eq!(git(d, &["diff", "--cached", "--name-only"]), "");
}

fn push(d: &Path, args: &[&str]) -> Output {
    let mut all = vec!["push", "-q", "origin"];
    all.extend_from_slice(args);
    git_output(d, &all, &[])
}

fn remote_ref(remote: &Path, name: &str) -> Option<String> {
    let out = git_output(remote, &["rev-parse", "--verify", "-q", name], &[]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn pre_push_blocks_a_commit_made_with_no_verify() {
    let dir = init_repo();
    let d = dir.path();
    let remote_dir = tempfile::tempdir().unwrap();
    let remote = remote_dir.path();
    git(remote, &["init", "-q", "--bare", "-b", "main"]);
    git(d, &["remote", "add", "origin", remote.to_str().unwrap()]);
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    install(d, &["--pre-push"]);
    // A new branch on an empty remote: every commit is new, none has a key.
    let out = push(d, &["main"]);
    assert!(out.status.success(), "{}", text(&out));
    let pushed = remote_ref(remote, "main");
    assert_eq!(pushed, head(d));
    // A key committed past the pre-commit hook is stopped at the push.
    write(d, "deploy.env", key_line(&openai_project_key()));
    git(d, &["add", "deploy.env"]);
    let out = commit(d, &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = push(d, &["main"]);
    let t = text(&out);
    assert!(!out.status.success(), "push should be blocked: {t}");
    assert!(t.contains("deploy.env"), "{t}");
    assert!(t.contains("git push --no-verify"), "{t}");
    assert_eq!(
        remote_ref(remote, "main"),
        pushed,
        "the remote must not move"
    );
    // The same commit on a new branch is stopped too (only commits no remote has).
    let out = push(d, &["main:feature"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(remote_ref(remote, "feature"), None);
    // Once the key is gone from the commits, the push goes through.
    git(d, &["reset", "-q", "--hard", "HEAD~1"]);
    write(d, "deploy.env", "OPENAI_API_KEY=${OPENAI_API_KEY}\n");
    git(d, &["add", "deploy.env"]);
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = push(d, &["main"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(remote_ref(remote, "main"), head(d));
}

/// `main` and a branch `feature` whose one commit adds `file` with `content` (committed past
/// the hooks), for merges.
fn feature_branch(d: &Path, file: &str, content: &str) {
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(d, file, content);
    git(d, &["add", file]);
    let out = commit(d, &["--no-verify"]);
    assert!(out.status.success(), "{}", text(&out));
    git(d, &["checkout", "-q", "main"]);
}

#[test]
fn a_merge_without_conflicts_that_adds_a_key_is_blocked() {
    let dir = repo_with_hook();
    let d = dir.path();
    feature_branch(d, "deploy.env", &key_line(&openai_project_key()));
    // `--no-ff` of a clean merge: git commits the merge itself and runs pre-merge-commit.
    let before = head(d);
    let out = git_output(d, &["merge", "--no-ff", "--no-edit", "feature"], &[]);
    assert_blocked(d, &out, before.as_deref());
    let t = text(&out);
    assert!(t.contains("deploy.env:1:16: openai-project-key"), "{t}");
    // The merge stays in progress, for the key to be taken out and the merge committed.
    assert!(d.join(".git/MERGE_HEAD").exists(), "{t}");
    git(d, &["merge", "--abort"]);
    // A merge that adds no key goes through.
    git(d, &["branch", "-q", "-D", "feature"]);
    feature_branch(d, "notes.txt", "nothing secret\n");
    let out = git_output(d, &["merge", "--no-ff", "--no-edit", "feature"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let parents = git(d, &["log", "-1", "--format=%P"]);
    assert_eq!(parents.split_whitespace().count(), 2);
    assert!(hook_status(d).contains("pre-merge-commit: keyhound"));
}

#[test]
fn an_existing_pre_merge_commit_hook_is_chained_and_put_back() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    foreign_hook(&hooks_dir(d).join("pre-merge-commit"), 0);
    let before = snapshot(&hooks_dir(d));
    let said = install(d, &[]);
    assert!(
        said.contains("pre-merge-commit: installed") && said.contains("kept as"),
        "{said}"
    );
    feature_branch(d, "notes.txt", "nothing secret\n");
    let out = git_output(d, &["merge", "--no-ff", "--no-edit", "feature"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let ran = std::fs::read_to_string(d.join(".git/foreign-ran")).unwrap();
    assert!(ran.contains("pre-merge-commit.keyhound-chained"), "{ran}");
    // It still decides: when it fails, the merge is not committed.
    foreign_hook(&hooks_dir(d).join("pre-merge-commit.keyhound-chained"), 4);
    git(d, &["checkout", "-q", "feature"]);
    write(d, "more.txt", "more\n");
    commit_all(d, "more");
    git(d, &["checkout", "-q", "main"]);
    let head_before = head(d);
    let out = git_output(d, &["merge", "--no-ff", "--no-edit", "feature"], &[]);
    assert_blocked(d, &out, head_before.as_deref());
    git(d, &["merge", "--abort"]);
    foreign_hook(&hooks_dir(d).join("pre-merge-commit.keyhound-chained"), 0);
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&hooks_dir(d)), before);
}

#[test]
fn a_failed_install_changes_nothing_and_the_old_hooks_still_run() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    let hooks = hooks_dir(d);
    foreign_hook(&hooks.join("pre-commit"), 0);
    foreign_hook(&hooks.join("pre-push"), 0);
    // Something install cannot write over where it writes its first hook…
    let blocker = hooks.join(".pre-commit.keyhound-tmp");
    write(&blocker, "stuck", "a directory, not a file\n");
    let before = snapshot(&hooks);
    let out = keyhound_in(d).args(["hook", "install"]).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(".pre-commit.keyhound-tmp"), "{err}");
    assert!(err.contains("changed nothing"), "{err}");
    assert_eq!(snapshot(&hooks), before);
    write(d, "a.txt", "a\n");
    git(d, &["add", "a.txt"]);
    let out = commit(d, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let ran = std::fs::read_to_string(d.join(".git/foreign-ran")).unwrap();
    assert_eq!(ran.lines().count(), 1, "the user's hook ran: {ran}");
    std::fs::remove_dir_all(&blocker).unwrap();
    // …or at its last hook: the ones before it are not left half done either.
    write(&hooks.join(".pre-push.keyhound-tmp"), "stuck", "\n");
    let before = snapshot(&hooks);
    keyhound_in(d)
        .args(["hook", "install", "--pre-push"])
        .assert()
        .failure();
    assert_eq!(snapshot(&hooks), before);
    assert!(hook_status(d).contains("pre-commit: not installed (another hook is there)"));
}

/// A repository whose team hooks live in a tracked `.githooks` (core.hooksPath), with one
/// committed hook that records that it ran.
fn repo_with_tracked_githooks() -> tempfile::TempDir {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    std::fs::create_dir_all(d.join(".githooks")).unwrap();
    foreign_hook(&d.join(".githooks/pre-commit"), 0);
    git(d, &["config", "core.hooksPath", ".githooks"]);
    commit_all(d, "team hooks");
    let _ = std::fs::remove_file(d.join(".git/foreign-ran"));
    dir
}

#[test]
fn a_tracked_hooks_dir_gets_hooks_that_find_keyhound_on_path() {
    let dir = repo_with_tracked_githooks();
    let d = dir.path();
    let team = snapshot(&d.join(".githooks"));
    let said = install(d, &["--pre-push"]);
    assert!(said.contains("shared through git"), "{said}");
    assert_no_machine_path(&d.join(".githooks"));
    let status = hook_status(d);
    assert!(
        status.contains("pre-commit: keyhound, runs `keyhound` from PATH"),
        "{status}"
    );
    assert!(!status.contains("older hook text"), "{status}");
    // With keyhound on PATH, the hook checks (after the team's hook)…
    write(d, "k.env", key_line(&openai_project_key()));
    git(d, &["add", "k.env"]);
    let before = head(d);
    let path = keyhound_on_path();
    let out = git_output(d, &["commit", "-m", "key"], &[("PATH", path.as_str())]);
    assert_blocked(d, &out, before.as_deref());
    assert!(text(&out).contains("k.env:1:"), "{}", text(&out));
    assert!(d.join(".git/foreign-ran").exists());
    // …and without it, the commit stops and says why.
    let out = git_output(d, &["commit", "-m", "key"], &[("PATH", "/usr/bin:/bin")]);
    assert_blocked(d, &out, before.as_deref());
    assert!(
        text(&out).contains("cannot find keyhound"),
        "{}",
        text(&out)
    );
    // Uninstall leaves the team's files exactly as committed.
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(snapshot(&d.join(".githooks")), team);
    assert_eq!(git(d, &["status", "--porcelain", "--", ".githooks"]), "");
}

#[test]
fn an_ignored_hooks_dir_in_the_work_tree_is_this_machines_own() {
    let dir = init_repo();
    let d = dir.path();
    write(d, ".git/info/exclude", ".localhooks/\n");
    git(d, &["config", "core.hooksPath", ".localhooks"]);
    install(d, &[]);
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let hook = std::fs::read_to_string(d.join(".localhooks/pre-commit")).unwrap();
    assert!(hook.contains(&*bin.to_string_lossy()), "{hook}");
}

#[test]
fn an_old_hook_naming_this_machine_in_a_tracked_dir_is_rewritten() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    install(d, &[]);
    // What an older keyhound wrote into a tracked .githooks: the hook with the binary's path.
    let old = std::fs::read(hooks_dir(d).join("pre-commit")).unwrap();
    write(d, ".githooks/pre-commit", &old);
    git(d, &["add", ".githooks"]);
    git(d, &["config", "core.hooksPath", ".githooks"]);
    assert!(hook_status(d).contains("older hook text"));
    let said = install(d, &[]);
    assert!(said.contains("to run `keyhound` from PATH"), "{said}");
    assert_no_machine_path(&d.join(".githooks"));
}

#[test]
fn links_in_a_tracked_hooks_dir_are_refused_never_written_through() {
    let dir = repo_with_tracked_githooks();
    let d = dir.path();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "not a hook\n").unwrap();
    // A link planted where install writes its temporary file.
    std::os::unix::fs::symlink(&victim, d.join(".githooks/.pre-commit.keyhound-tmp")).unwrap();
    git(d, &["add", "-A"]);
    let before = snapshot(&d.join(".githooks"));
    let out = keyhound_in(d).args(["hook", "install"]).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(".githooks/.pre-commit.keyhound-tmp"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a hook\n");
    assert_eq!(snapshot(&d.join(".githooks")), before);
    std::fs::remove_file(d.join(".githooks/.pre-commit.keyhound-tmp")).unwrap();
    // A hook that is a link: refused, named, left as it is.
    std::fs::remove_file(d.join(".githooks/pre-commit")).unwrap();
    std::os::unix::fs::symlink(&victim, d.join(".githooks/pre-commit")).unwrap();
    let before = snapshot(&d.join(".githooks"));
    let out = keyhound_in(d).args(["hook", "install"]).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains(".githooks/pre-commit is a symbolic link"),
        "{err}"
    );
    assert_eq!(snapshot(&d.join(".githooks")), before);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a hook\n");
    // A hooks directory that is itself a link out of the work tree: refused too.
    std::fs::remove_dir_all(d.join(".githooks")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.join(".githooks")).unwrap();
    let out = keyhound_in(d).args(["hook", "install"]).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("leads out of the work tree"), "{err}");
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        1,
        "nothing written outside"
    );
}

#[test]
fn uninstall_removes_every_directory_install_made() {
    let dir = init_repo();
    let d = dir.path();
    git(d, &["config", "core.hooksPath", "tools/git/hooks"]);
    install(d, &[]);
    assert!(d.join("tools/git/hooks/pre-merge-commit").is_file());
    // A later install adds pre-push to the directories the first one made.
    install(d, &["--pre-push"]);
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!d.join("tools").exists(), "all three levels go");
    // A directory that holds something else stays.
    install(d, &[]);
    write(d, "tools/git/config.txt", "team file\n");
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert!(!d.join("tools/git/hooks").exists());
    assert!(d.join("tools/git/config.txt").exists());
}

/// A key pasted into the commit message: the commit-msg hook installed beside pre-commit
/// stops the real `git commit`, says where and what to do; a clean message goes through;
/// a commit-msg hook that was there is kept, runs, and is back after uninstall.
#[test]
fn a_key_in_the_commit_message_is_blocked_by_the_commit_msg_hook() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    let mine = hooks_dir(d).join("commit-msg");
    std::fs::create_dir_all(hooks_dir(d)).unwrap();
    foreign_hook(&mine, 0);
    let before_install = std::fs::read(&mine).unwrap();
    let said = install(d, &[]);
    assert!(said.contains("commit-msg:"), "{said}");
    assert!(
        hook_status(d).contains("commit-msg: keyhound"),
        "{}",
        hook_status(d)
    );
    write(d, "notes.txt", "nothing secret\n");
    git(d, &["add", "-A"]);
    let before = head(d);
    let key = openai_project_key();
    let out = git_output(
        d,
        &[
            "commit",
            "-m",
            &format!("debug\n\nexport OPENAI_API_KEY={key}"),
        ],
        &[],
    );
    assert_blocked(d, &out, before.as_deref());
    let t = text(&out);
    assert!(t.contains("message of the commit being made:3:23"), "{t}");
    assert!(t.contains("this commit's message holds a secret"), "{t}");
    assert!(!t.contains(&key[12..key.len() - 4]), "the key leaked: {t}");
    let out = git_output(d, &["commit", "-m", "a clean message"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    keyhound_in(d)
        .args(["hook", "uninstall"])
        .assert()
        .success();
    assert_eq!(std::fs::read(&mine).unwrap(), before_install);
}

/// A Google Cloud service-account key file as Google issues it: the private key a one-line
/// JSON string with `\n` escapes (a DER-shaped random body, not a usable key).
fn service_account_json() -> String {
    use base64::Engine;
    let mut der = vec![0x30u8, 0x82, 0x04, 0xbd, 0x02, 0x01, 0x00];
    der.extend((0..1200).map(|_| fastrand::u8(..)));
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let kind = ["PRIVATE", "KEY"].join(" ");
    let pem = format!(
        "-----BEGIN {kind}-----\\n{}\\n-----END {kind}-----\\n",
        lines.join("\\n")
    );
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{pem}\",\n  \"client_email\": \"deploy@acme-prod.iam.gserviceaccount.com\",\n  \"client_id\": \"{}\"\n}}\n",
        random(HEX, 40),
        random("0123456789", 21)
    )
}

#[test]
fn commit_of_a_gcp_service_account_key_file_is_blocked() {
    // Regression (issue 15.4): the key's body was read line by line, found empty in the
    // one-line JSON string, and the key called a fixture by value, so the commit went through.
    let dir = repo_with_hook();
    let d = dir.path();
    write(d, "deploy/credentials.json", service_account_json());
    git(d, &["add", "deploy/credentials.json"]);
    let before = head(d);
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
    let t = text(&out);
    assert!(t.contains("gcp-service-account-key"), "{t}");
}

#[test]
fn commit_of_a_pem_key_with_escaped_newlines_in_env_or_yaml_is_blocked() {
    for (path, layout) in [
        ("deploy/.env", "PRIVATE_KEY=\"{pem}\"\n"),
        (
            "k8s/secret.yaml",
            "apiVersion: v1\nkind: Secret\nstringData:\n  tls.key: \"{pem}\"\n",
        ),
    ] {
        let dir = repo_with_hook();
        let d = dir.path();
        let pem = crate::confidence::rsa_pem().trim_end().replace('\n', "\\n");
        write(d, path, layout.replace("{pem}", &pem));
        git(d, &["add", path]);
        let before = head(d);
        let out = commit(d, &[]);
        assert_blocked(d, &out, before.as_deref());
        assert!(text(&out).contains("private-key-rsa"), "{}", text(&out));
    }
}
