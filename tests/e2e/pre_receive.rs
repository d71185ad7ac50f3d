//! The server-side gate: `keyhound hook install --pre-receive` in a bare repository, and real
//! `git push`es to it (over a local path and over `git daemon` on 127.0.0.1). A rejected push
//! must leave the server's refs as they were and its quarantined objects gone.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

/// A bare repository with keyhound's pre-receive hook installed with `args`.
fn server(args: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        dir.path(),
        &["config", "receive.advertisePushOptions", "true"],
    );
    install(dir.path(), args);
    dir
}

fn install(d: &Path, args: &[&str]) -> String {
    let out = keyhound_in(d)
        .args(["hook", "install", "--pre-receive"])
        .args(args)
        .arg(d)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

/// A work repository whose `origin` is `url`, with one clean commit on main.
fn client(url: &str) -> tempfile::TempDir {
    let dir = init_repo();
    git(dir.path(), &["remote", "add", "origin", url]);
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "init");
    dir
}

fn push(d: &Path, args: &[&str]) -> Output {
    let mut all = vec!["push", "origin"];
    all.extend_from_slice(args);
    git_output(d, &all, &[])
}

fn refs(server: &Path) -> String {
    git(
        server,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )
}

/// Objects directories git made for a push's quarantine and did not remove.
fn quarantines(server: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(server.join("objects"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains("incoming-"))
        .collect()
}

fn rejected(out: &Output) -> String {
    let t = text(out);
    assert!(!out.status.success(), "the push should be rejected: {t}");
    assert!(t.contains("pre-receive hook declined"), "{t}");
    t
}

fn accepted(out: &Output) -> String {
    let t = text(out);
    assert!(out.status.success(), "the push should be accepted: {t}");
    t
}

fn url(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn add_key(d: &Path, file: &str, msg: &str) -> String {
    let key = openai_project_key();
    write(d, file, key_line(&key));
    commit_all(d, msg);
    key
}

#[test]
fn a_clean_push_is_accepted_and_a_key_in_the_tip_is_rejected_with_nothing_landing() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    let before = refs(s);
    let key = add_key(d, "deploy.env", "Add the deploy settings");
    let t = rejected(&push(d, &["main"]));
    // Who, where, what, and what to do; the key itself is never shown in full.
    let short = &rev(d, "HEAD")[..12];
    assert!(
        t.contains(&format!("commit {short} \"Add the deploy settings\"")),
        "{t}"
    );
    assert!(t.contains("deploy.env:1"), "{t}");
    assert!(t.contains("openai"), "{t}");
    assert!(
        t.contains("git commit --amend") && t.contains("git rebase -i"),
        "{t}"
    );
    assert!(t.contains("rotate"), "{t}");
    assert!(t.contains("remote: "), "{t}");
    assert!(!t.contains(&key), "{t}");
    assert!(!t.contains("GL-HOOK-ERR"), "{t}");
    assert_eq!(refs(s), before, "the server's refs must not move");
    assert!(quarantines(s).is_empty(), "{:?}", quarantines(s));
    // The pushed objects were only ever in quarantine: the server does not have them.
    let tip = rev(d, "HEAD");
    let has = git_output(s, &["cat-file", "-e", &tip], &[]);
    assert!(
        !has.status.success(),
        "the rejected commit must not be on the server"
    );
}

#[test]
fn a_key_in_an_older_commit_of_a_multi_commit_push_is_found() {
    let srv = server(&[]);
    let work = client(&url(srv.path()));
    let d = work.path();
    accepted(&push(d, &["main"]));
    add_key(d, "old.env", "key in the middle");
    write(d, "old.env", "OPENAI_API_KEY=${OPENAI_API_KEY}\n");
    commit_all(d, "take it out again");
    write(d, "more.txt", "more\n");
    commit_all(d, "more");
    let t = rejected(&push(d, &["main"]));
    assert!(
        t.contains("old.env:1") && t.contains("key in the middle"),
        "{t}"
    );
}

#[test]
fn a_new_branch_scans_only_its_new_commits_and_a_key_there_is_rejected() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    git(d, &["checkout", "-q", "-b", "feature"]);
    add_key(d, "feature.env", "feature key");
    let t = rejected(&push(d, &["feature"]));
    assert!(t.contains("feature.env"), "{t}");
    assert!(
        t.contains("1 new commit on 1 ref") || !t.contains("2 new commits"),
        "{t}"
    );
    assert!(!refs(s).contains("refs/heads/feature"));
}

#[test]
fn a_force_push_that_brings_a_key_back_is_rejected() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    add_key(d, "k.env", "the key");
    let with_key = rev(d, "HEAD");
    rejected(&push(d, &["main"]));
    git(d, &["reset", "-q", "--hard", "HEAD~1"]);
    write(d, "clean.txt", "clean\n");
    commit_all(d, "clean");
    accepted(&push(d, &["main"]));
    git(d, &["reset", "-q", "--hard", &with_key]);
    let t = rejected(&push(d, &["--force", "main"]));
    assert!(t.contains("k.env"), "{t}");
}

#[test]
fn an_annotated_tag_whose_commit_adds_a_key_is_rejected() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    git(d, &["checkout", "-q", "--detach"]);
    add_key(d, "tagged.env", "tagged");
    git(d, &["tag", "-a", "v1", "-m", "release one"]);
    let t = rejected(&push(d, &["v1"]));
    assert!(t.contains("tagged.env"), "{t}");
    assert!(!refs(s).contains("refs/tags/v1"));
    // A lightweight tag of the same commit too.
    git(d, &["tag", "v1-light"]);
    rejected(&push(d, &["v1-light"]));
}

#[test]
fn push_all_with_a_key_on_one_ref_rejects_the_whole_push() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    let before = refs(s);
    git(d, &["branch", "clean"]);
    git(d, &["checkout", "-q", "-b", "dirty"]);
    add_key(d, "dirty.env", "dirty");
    git(d, &["checkout", "-q", "main"]);
    write(d, "ok.txt", "ok\n");
    commit_all(d, "ok on main");
    let t = rejected(&push(d, &["--all"]));
    assert!(t.contains("dirty.env"), "{t}");
    assert_eq!(refs(s), before, "no ref of the push may land");
}

#[test]
fn a_ref_deletion_scans_nothing_and_is_accepted() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main", "main:old"]));
    accepted(&push(d, &["--delete", "old"]));
    assert!(!refs(s).contains("refs/heads/old"));
}

#[test]
fn a_bypass_option_is_honoured_only_when_enabled_and_always_recorded() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.jsonl");
    let srv = server(&["--allow-bypass", "--audit-log", log.to_str().unwrap()]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    add_key(d, "k.env", "the key");
    let t = rejected(&push(d, &["main"]));
    let fp = t
        .lines()
        .find_map(|l| l.split("fingerprint ").nth(1))
        .unwrap()
        .trim()
        .to_string();
    let opt = format!("keyhound.allow={fp}");
    let t = accepted(&push(
        d,
        &["-o", &opt, "-o", "keyhound.reason=test key", "main"],
    ));
    assert!(t.contains("recorded in the audit log"), "{t}");
    let record: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(record["action"], "allow");
    assert_eq!(record["fingerprints"][0], fp.as_str());
    assert_eq!(record["reason"], "test key");
    assert_eq!(record["refs"][0]["ref"], "refs/heads/main");
    assert_eq!(record["commits"][0], rev(d, "HEAD").as_str());
    assert!(record["time"].as_str().unwrap().ends_with('Z'));
    assert!(record["pusher"].is_string());
    // Skipping a whole push, with a reason.
    add_key(d, "k2.env", "another");
    accepted(&push(d, &["-o", "keyhound.skip=incident 42", "main"]));
    let last = std::fs::read_to_string(&log).unwrap();
    let record: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(record["action"], "skip");
    assert_eq!(record["reason"], "incident 42");

    // The same options on a server that does not enable them change nothing.
    let strict = server(&[]);
    git(d, &["remote", "set-url", "origin", &url(strict.path())]);
    let t = rejected(&push(
        d,
        &["-o", &opt, "-o", "keyhound.skip=please", "main"],
    ));
    assert!(t.contains("does not accept the keyhound.allow"), "{t}");
}

#[test]
fn a_pushed_config_that_turns_the_gate_off_changes_nothing() {
    let srv = server(&[]);
    let work = client(&url(srv.path()));
    let d = work.path();
    accepted(&push(d, &["main"]));
    write(
        d,
        ".keyhound.toml",
        "[extend]\ndefault = false\n\n[allowlist]\npaths = ['.*']\n",
    );
    write(d, ".keyhoundignore", "*\n**\n");
    write(
        d,
        ".keyhound-baseline.json",
        "{\"version\":1,\"findings\":[]}\n",
    );
    commit_all(d, "configure the scanner");
    // Even on the server's HEAD: push the config first, where it holds no key (nothing to stop).
    accepted(&push(d, &["main"]));
    add_key(d, "k.env", "key under a permissive config");
    // Read by a scan of the repository, the config does turn everything off…
    keyhound_in(d)
        .args(["git", "--range", "HEAD~1..HEAD", "--quiet"])
        .assert()
        .success();
    // …but the server reads none of it.
    let t = rejected(&push(d, &["main"]));
    assert!(t.contains("k.env"), "{t}");
}

#[test]
fn a_budget_that_runs_out_rejects_or_accepts_by_policy_and_says_so() {
    let srv = server(&["--budget", "0"]);
    let work = client(&url(srv.path()));
    let d = work.path();
    let t = rejected(&push(d, &["main"]));
    assert!(
        t.contains("time budget") && t.contains("push rejected"),
        "{t}"
    );

    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.jsonl");
    let lenient = server(&[
        "--budget",
        "0",
        "--on-budget",
        "accept",
        "--audit-log",
        log.to_str().unwrap(),
    ]);
    git(d, &["remote", "set-url", "origin", &url(lenient.path())]);
    let t = accepted(&push(d, &["main"]));
    assert!(
        t.contains("time budget") && t.contains("accepted unchecked"),
        "{t}"
    );
    let record: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
    assert_eq!(record["action"], "budget-accept");
}

#[test]
fn gitlab_gets_its_hook_error_line() {
    let srv = server(&[]);
    let s = srv.path();
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    add_key(d, "k.env", "key");
    // What GitLab's gitaly sets for a hook; here through the receive-pack command.
    let receive = "GL_ID=user-1 GL_PROTOCOL=ssh git-receive-pack";
    let out = git_output(
        d,
        &["push", "--receive-pack", receive, "origin", "main"],
        &[],
    );
    let t = rejected(&out);
    assert!(
        t.contains("GL-HOOK-ERR: keyhound rejected this push"),
        "{t}"
    );
}

#[test]
fn the_same_push_over_git_daemon_and_over_a_local_path() {
    if !std::process::Command::new("git")
        .args(["daemon", "-h"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains("usage: git daemon")
                || String::from_utf8_lossy(&o.stderr).contains("usage: git daemon")
        })
    {
        eprintln!("skipped: git daemon is not installed");
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let s = base.path().join("repo.git");
    std::fs::create_dir(&s).unwrap();
    git(&s, &["init", "-q", "--bare", "-b", "main"]);
    git(&s, &["config", "daemon.receivepack", "true"]);
    install(&s, &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut daemon = std::process::Command::new("git")
        .args([
            "daemon",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            &format!("--base-path={}", base.path().display()),
        ])
        .arg(base.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it listens.
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let over_daemon = format!("git://127.0.0.1:{port}/repo.git");
    let result = std::panic::catch_unwind(|| {
        assert!(up, "git daemon did not start");
        let work = client(&over_daemon);
        let d = work.path();
        accepted(&push(d, &["main"]));
        add_key(d, "k.env", "key over the daemon");
        let t = rejected(&push(d, &["main"]));
        assert!(t.contains("k.env"), "{t}");
        // The same push over the local path.
        git(d, &["remote", "set-url", "origin", &url(&s)]);
        let t = rejected(&push(d, &["main"]));
        assert!(t.contains("k.env"), "{t}");
    });
    let _ = daemon.kill();
    let _ = daemon.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn an_existing_pre_receive_hook_still_runs_and_is_back_after_uninstall() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    git(s, &["init", "-q", "--bare", "-b", "main"]);
    let hook = s.join("hooks/pre-receive");
    let marker = s.join("ran");
    let script = format!("#!/bin/sh\ncat > '{}'\nexit 0\n", marker.display());
    std::fs::write(&hook, &script).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let said = install(s, &[]);
    assert!(
        said.contains("pre-receive: installed") && said.contains("runs first"),
        "{said}"
    );
    let status = keyhound_in(s)
        .args(["hook", "status"])
        .arg(s)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.contains("pre-receive: keyhound"), "{status}");
    let work = client(&url(s));
    let d = work.path();
    accepted(&push(d, &["main"]));
    assert!(
        std::fs::read_to_string(&marker)
            .unwrap()
            .contains("refs/heads/main"),
        "the chained hook got the push's lines"
    );
    add_key(d, "k.env", "key");
    rejected(&push(d, &["main"]));
    let out = keyhound_in(s)
        .args(["hook", "uninstall"])
        .arg(s)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("pre-receive: removed; the earlier hook is back"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), script);
    // The earlier hook alone lets it through.
    accepted(&push(d, &["main"]));
}

#[test]
fn the_servers_own_config_is_the_one_that_counts() {
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("server.toml");
    std::fs::write(&cfg, "[extend]\ndefault = false\n").unwrap();
    let srv = server(&["--config", cfg.to_str().unwrap()]);
    let work = client(&url(srv.path()));
    let d = work.path();
    add_key(d, "k.env", "a key the server's rules do not look for");
    accepted(&push(d, &["main"]));
}

#[test]
fn a_sha256_repository_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    git(
        s,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            "--object-format=sha256",
        ],
    );
    // libgit2 cannot open the repository to install into: the hook of a SHA-1 one.
    let sha1 = server(&[]);
    std::fs::copy(
        sha1.path().join("hooks/pre-receive"),
        s.join("hooks/pre-receive"),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    git(d, &["init", "-q", "-b", "main", "--object-format=sha256"]);
    git(d, &["remote", "add", "origin", &url(s)]);
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    let t = rejected(&push(d, &["main"]));
    assert!(t.contains("SHA-256"), "{t}");
}

#[test]
fn each_blob_is_scanned_once_across_the_refs_of_a_push() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    git(s, &["init", "-q", "--bare", "-b", "main"]);
    let work = client(&url(s));
    let d = work.path();
    git(d, &["push", "-q", "origin", "main"]);
    let line = key_line(&openai_project_key());
    git(d, &["checkout", "-q", "-b", "b1"]);
    write(d, "k.env", &line);
    write(d, "x1.txt", "one\n");
    commit_all(d, "b1");
    git(d, &["checkout", "-q", "-b", "b2", "main"]);
    write(d, "k.env", &line);
    commit_all(d, "b2");
    // The objects on the server, no ref of its own naming them: as in a push's quarantine.
    git(d, &["push", "-q", "origin", "b1", "b2"]);
    git(s, &["update-ref", "-d", "refs/heads/b1"]);
    git(s, &["update-ref", "-d", "refs/heads/b2"]);
    let zero = "0".repeat(40);
    let input = format!(
        "{zero} {} refs/heads/b1\n{zero} {} refs/heads/b2\n",
        rev(d, "b1"),
        rev(d, "b2")
    );
    let out = keyhound_in(s)
        .args(["git", "--pre-receive", "--format", "json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let summary = json_summary(&out.stdout);
    assert_eq!(
        summary["scanned"], 2,
        "the key's blob once, and x1.txt: {summary}"
    );
    assert_eq!(json_findings(&out.stdout).as_array().unwrap().len(), 1);
}

/// A path and a commit subject are the pusher's text: the rejection shows them without the
/// escape sequences they hold (which could clear the pusher's screen or pass for the server's
/// own lines).
#[test]
fn pushed_paths_and_subjects_are_shown_without_their_control_characters() {
    let dir = init_repo();
    let d = dir.path();
    git(d, &["commit", "-q", "--allow-empty", "-m", "base"]);
    let old = rev(d, "HEAD");
    git(d, &["checkout", "-q", "--detach"]);
    write(d, "a\x1b[2Jb.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "subject \x1b[31mred"]);
    let new = rev(d, "HEAD");
    // Run as the hook would, the new commit on no ref of the repository.
    let out = keyhound()
        .args(["git", "--pre-receive", "--quiet"])
        .arg(d)
        .write_stdin(format!("{old} {new} refs/heads/main\n"))
        .output()
        .expect("keyhound runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("push rejected"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}
