//! End-to-end tests: `keyhound hook install|uninstall|status` and the installed hooks inside
//! real `git commit` and `git push` runs. The hooks run the binary under test: install records
//! the path of the binary that installed them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

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

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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
    assert!(t.contains("sk-proj-…"), "redacted key shown: {t}");
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

/// Files of a hooks directory: name → (content or link target, mode).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
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
        } else {
            std::fs::read(e.path()).expect("hook readable")
        };
        out.insert(
            e.file_name().to_string_lossy().into_owned(),
            (content, meta.permissions().mode()),
        );
    }
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
    write(d, "k.env", key_line(&openai_project_key()));
    git(d, &["add", "k.env"]);
    let before = head(d);
    let out = commit(d, &[]);
    assert_blocked(d, &out, before.as_deref());
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
    std::fs::write(hooks.join("shared-push-hook"), "#!/bin/sh\nexit 0\n").unwrap();
    std::os::unix::fs::symlink("shared-push-hook", hooks.join("pre-push")).unwrap();
    let before = snapshot(&hooks);
    install(d, &["--pre-push"]);
    assert_ne!(snapshot(&hooks), before);
    let status = keyhound_in(d).args(["hook", "status"]).assert().success();
    let status = String::from_utf8_lossy(&status.get_output().stdout).into_owned();
    assert!(status.contains("pre-push: keyhound"), "{status}");
    assert!(
        status.contains("pre-commit.keyhound-chained first"),
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

/// The pre-commit framework (from PyPI) with keyhound's `.pre-commit-hooks.yaml`: both hooks,
/// in a real `git commit`. Skipped, with a notice, when `pre-commit` is not installed.
#[test]
fn pre_commit_framework_runs_both_hooks() {
    if std::process::Command::new("pre-commit")
        .arg("--version")
        .output()
        .map_or(true, |o| !o.status.success())
    {
        eprintln!("NOTICE: `pre-commit` is not installed (pip install pre-commit); test skipped");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    // A stand-in for keyhound's repository: the hook definitions and the from-source script,
    // with the binary under test where the script looks for its build.
    let hooks_repo = init_repo();
    let h = hooks_repo.path();
    write(
        h,
        ".pre-commit-hooks.yaml",
        std::fs::read(root.join(".pre-commit-hooks.yaml")).unwrap(),
    );
    write(
        h,
        "hooks/from-source",
        std::fs::read(root.join("hooks/from-source")).unwrap(),
    );
    std::fs::create_dir_all(h.join("target/release")).unwrap();
    std::os::unix::fs::symlink(&bin, h.join("target/release/keyhound")).unwrap();
    git(h, &["add", "-A"]);
    git(h, &["update-index", "--chmod=+x", "hooks/from-source"]);
    git(h, &["commit", "-q", "-m", "hooks"]);
    let rev = git(h, &["rev-parse", "HEAD"]);

    let dir = init_repo();
    let d = dir.path();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: keyhound\n      - id: keyhound-system\n",
        h.display(),
        rev.trim()
    );
    write(d, ".pre-commit-config.yaml", config);
    let cache = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("PRE_COMMIT_HOME", cache.path().to_str().unwrap()),
        ("PATH", path.as_str()),
    ];
    let out = std::process::Command::new("pre-commit")
        .arg("install")
        .current_dir(d)
        .envs(env)
        .env("HOME", d)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    git(d, &["add", "-A"]);
    let out = git_output(d, &["commit", "-m", "config"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.matches("Passed").count() >= 2, "both hooks ran: {t}");

    write(d, "settings.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let before = head(d);
    let out = git_output(d, &["commit", "-m", "key"], &env);
    assert_blocked(d, &out, before.as_deref());
    let t = text(&out);
    assert_eq!(
        t.matches("settings.env:1:16: openai-project-key").count(),
        2,
        "{t}"
    );
    assert!(t.contains("Failed"), "{t}");
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
