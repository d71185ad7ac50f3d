//! End-to-end tests: `keyhound git [REPO]`, the history audit, on repositories made with the
//! git CLI. Keys are made at run time.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use crate::util::*;
use serde_json::Value;

/// Runs `keyhound git` with JSON output on `dir` and returns (exit code, findings, stderr).
fn audit(dir: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let out = keyhound()
        .arg("git")
        .arg(dir)
        .args(["--format", "json", "--no-redact"])
        .args(extra)
        .output()
        .expect("keyhound runs");
    assert!(
        serde_json::from_slice::<Value>(&out.stdout).is_ok(),
        "not JSON: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = json_findings(&out.stdout);
    (
        out.status.code().expect("exit code"),
        findings.as_array().expect("array").clone(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `keyhound git` with human output and returns (exit code, stdout, stderr).
fn audit_text(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = keyhound()
        .arg("git")
        .arg(dir)
        .args(extra)
        .output()
        .expect("keyhound runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The findings whose secret is `key`.
fn with_secret<'a>(findings: &'a [Value], key: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["secret"] == key).collect()
}

/// The one finding whose secret is `key`.
fn one<'a>(findings: &'a [Value], key: &str) -> &'a Value {
    let found = with_secret(findings, key);
    assert_eq!(
        found.len(),
        1,
        "expected one finding for the key: {findings:#?}"
    );
    found[0]
}

/// Packs the loose objects reachable from any ref into a new pack and removes them (what
/// `git repack -d` does, without its subprocesses reading /dev/null).
fn pack_loose_objects(dir: &Path) {
    let listed = git(dir, &["rev-list", "--objects", "--all", "--unpacked"]);
    let ids: String = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|id| format!("{id}\n"))
        .collect();
    git_input(
        dir,
        &["pack-objects", "-q", ".git/objects/pack/pack"],
        &[],
        ids.as_bytes(),
    );
    git(dir, &["prune-packed"]);
}

#[test]
fn key_added_then_deleted_is_still_reported_and_not_at_head() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "start");
    write(
        dir.path(),
        "config/.env",
        format!("A=1\n{}", key_line(&key)),
    );
    commit_all(dir.path(), "add config");
    let added = rev(dir.path(), "HEAD");
    git(dir.path(), &["rm", "-q", "config/.env"]);
    commit_all(dir.path(), "remove config");

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = one(&findings, &key);
    assert_eq!(f["rule_id"], "openai-project-key");
    let loc = &f["locations"][0];
    assert_eq!(loc["path"], "config/.env");
    assert_eq!(loc["line"], 2);
    assert_eq!(loc["column"], 16);
    assert_eq!(loc["commit"]["id"], added.as_str());
    assert_eq!(loc["commit"]["summary"], "add config");
    assert_eq!(loc["commit"]["author"], "Test Author");
    assert_eq!(loc["commit"]["email"], "author@example.com");
    assert!(loc["blob"].as_str().is_some_and(|b| b.len() == 40));
    assert_eq!(f["git"]["present_at_head"], false);
    assert_eq!(f["git"]["commits"], 1);

    let (code, text, _) = audit_text(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        text.contains("no longer at HEAD, still exposed in history"),
        "{text}"
    );
    assert!(text.contains(&added[..12]), "{text}");
    assert!(text.contains("history: 3 commits"), "{text}");
    assert!(!text.contains(&key[12..]), "secret leaked: {text}");
}

#[test]
fn key_still_at_head_says_so() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "app.env", key_line(&key));
    commit_all(dir.path(), "add");
    let (_, findings, _) = audit(dir.path(), &[]);
    assert_eq!(one(&findings, &key)["git"]["present_at_head"], true);
}

#[test]
fn key_only_on_a_non_default_branch() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "start");
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write(dir.path(), "feature.env", key_line(&key));
    commit_all(dir.path(), "feature work");
    git(dir.path(), &["checkout", "-q", "main"]);

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = one(&findings, &key);
    assert_eq!(f["git"]["present_at_head"], false);
    assert_eq!(f["locations"][0]["commit"]["summary"], "feature work");

    let (code, findings, _) = audit(dir.path(), &["--branch", "main"]);
    assert_eq!(code, 0, "{findings:#?}");
    let (code, _, _) = audit(dir.path(), &["--branch", "feature"]);
    assert_eq!(code, 1);
}

#[test]
fn key_only_in_a_tag_or_a_tagged_blob() {
    let dir = init_repo();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "start");
    git(dir.path(), &["checkout", "-q", "-b", "release"]);
    write(dir.path(), "release.env", key_line(&k1));
    commit_all(dir.path(), "release build");
    git(dir.path(), &["tag", "-a", "-m", "v1", "v1.0"]);
    git(dir.path(), &["checkout", "-q", "main"]);
    git(dir.path(), &["branch", "-q", "-D", "release"]);
    // A tag that names a blob directly, reachable from no commit.
    write(dir.path(), "loose.env", key_line(&k2));
    let blob = git(dir.path(), &["hash-object", "-w", "loose.env"]);
    std::fs::remove_file(dir.path().join("loose.env")).unwrap();
    git(dir.path(), &["tag", "blob-tag", blob.trim()]);

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        one(&findings, &k1)["locations"][0]["commit"]["summary"],
        "release build"
    );
    assert_eq!(
        one(&findings, &k2)["locations"][0]["path"],
        "refs/tags/blob-tag"
    );
}

#[test]
fn key_only_in_a_merge_resolution() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "settings.env", "MODE=base\n");
    commit_all(dir.path(), "base");
    git(dir.path(), &["checkout", "-q", "-b", "other"]);
    write(dir.path(), "settings.env", "MODE=other\n");
    commit_all(dir.path(), "other side");
    git(dir.path(), &["checkout", "-q", "main"]);
    write(dir.path(), "settings.env", "MODE=main\n");
    commit_all(dir.path(), "main side");
    let out = Command::new("git")
        .args(["merge", "-q", "other"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "expected a conflict");
    write(
        dir.path(),
        "settings.env",
        format!("MODE=merged\n{}", key_line(&key)),
    );
    git(dir.path(), &["add", "settings.env"]);
    git(dir.path(), &["commit", "-q", "-m", "merge other"]);
    let merge = rev(dir.path(), "HEAD");

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = one(&findings, &key);
    assert_eq!(f["locations"][0]["commit"]["id"], merge.as_str());
    assert_eq!(f["locations"][0]["line"], 2);

    // A range holding only the merge finds it too: the resolution differs from both parents.
    let (code, findings, _) = audit(dir.path(), &["--range", "HEAD~1..HEAD"]);
    assert_eq!(code, 1);
    one(&findings, &key);
}

#[test]
fn key_in_a_file_later_renamed_is_one_finding_at_its_first_path() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "old/name.env", key_line(&key));
    commit_all(dir.path(), "add");
    git(dir.path(), &["mv", "old", "new"]);
    commit_all(dir.path(), "rename");

    let (_, findings, _) = audit(dir.path(), &[]);
    let f = one(&findings, &key);
    assert_eq!(f["locations"].as_array().unwrap().len(), 1);
    assert_eq!(f["locations"][0]["path"], "old/name.env");
    assert_eq!(f["git"]["present_at_head"], true);
}

#[test]
fn keys_in_the_stash_and_older_stash_entries() {
    let dir = init_repo();
    let (k1, k2, k3) = (
        openai_project_key(),
        openai_project_key(),
        openai_project_key(),
    );
    write(dir.path(), "app.env", "A=1\n");
    commit_all(dir.path(), "start");
    write(dir.path(), "app.env", key_line(&k1));
    git(dir.path(), &["stash", "-q"]);
    write(dir.path(), "app.env", key_line(&k2));
    git(dir.path(), &["stash", "-q"]);
    // Untracked files stashed with -u live in a third parent of the stash commit.
    write(dir.path(), "untracked.env", key_line(&k3));
    git(dir.path(), &["stash", "-q", "-u"]);

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    for k in [&k1, &k2, &k3] {
        assert_eq!(one(&findings, k)["git"]["present_at_head"], false);
    }
}

#[test]
fn key_in_git_notes() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "start");
    git(dir.path(), &["notes", "add", "-m", &key_line(&key)]);

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = one(&findings, &key);
    assert_eq!(f["locations"][0]["path"], rev(dir.path(), "HEAD").as_str());
}

#[test]
fn same_key_in_fifty_commits_is_one_finding_with_fifty_commits() {
    let dir = init_repo();
    let key = openai_project_key();
    let mut body = key_line(&key);
    for i in 0..50 {
        body.push_str(&format!("ROUND={i}\n"));
        write(dir.path(), "app.env", &body);
        commit_all(dir.path(), &format!("round {i}"));
    }
    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f["git"]["commits"], 50);
    assert_eq!(f["git"]["paths"], 1);
    let locations = f["locations"].as_array().unwrap();
    assert_eq!(locations.len(), 50);
    assert_eq!(locations[0]["commit"]["summary"], "round 0");
    assert_eq!(locations[49]["commit"]["summary"], "round 49");

    let (_, text, _) = audit_text(dir.path(), &[]);
    assert!(text.contains("seen at:     50 locations"), "{text}");
    assert!(
        text.contains("introduced by 50 commits at 1 path"),
        "{text}"
    );

    let (code, findings, _) = audit(dir.path(), &["--no-dedup"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 50);
    assert!(findings
        .iter()
        .all(|f| f["locations"].as_array().unwrap().len() == 1));
    assert_eq!(findings[0]["locations"][0]["commit"]["summary"], "round 0");
}

#[test]
fn range_reports_only_keys_introduced_inside_it() {
    let dir = init_repo();
    let (before, inside) = (openai_project_key(), openai_project_key());
    write(dir.path(), "a.env", key_line(&before));
    commit_all(dir.path(), "before");
    let base = rev(dir.path(), "HEAD");
    write(dir.path(), "README.md", "docs\n");
    commit_all(dir.path(), "docs");
    write(dir.path(), "b.env", key_line(&inside));
    commit_all(dir.path(), "inside");

    let range = format!("{base}..HEAD");
    let (code, findings, _) = audit(dir.path(), &["--range", &range]);
    assert_eq!(code, 1);
    assert!(with_secret(&findings, &before).is_empty(), "{findings:#?}");
    assert_eq!(
        one(&findings, &inside)["locations"][0]["commit"]["summary"],
        "inside"
    );
    let (code, _, _) = audit(dir.path(), &["--range", "HEAD~1..HEAD"]);
    assert_eq!(code, 1);
    let (code, findings, _) = audit(dir.path(), &["--range", "HEAD~2..HEAD~1"]);
    assert_eq!(code, 0, "{findings:#?}");

    let (code, _, err) = audit_text(dir.path(), &["--range", "nosuch..HEAD"]);
    assert_eq!(code, 2);
    assert!(err.contains("--range nosuch..HEAD"), "{err}");
}

#[test]
fn since_and_until_select_commits_by_author_date() {
    let dir = init_repo();
    let (old, new) = (openai_project_key(), openai_project_key());
    write(dir.path(), "old.env", key_line(&old));
    git(dir.path(), &["add", "-A"]);
    git_env(
        dir.path(),
        &["commit", "-q", "-m", "old"],
        &[("GIT_AUTHOR_DATE", "2020-01-01T12:00:00Z")],
    );
    write(dir.path(), "new.env", key_line(&new));
    git(dir.path(), &["add", "-A"]);
    git_env(
        dir.path(),
        &["commit", "-q", "-m", "new"],
        &[("GIT_AUTHOR_DATE", "2023-06-01T12:00:00+02:00")],
    );
    let (_, findings, _) = audit(dir.path(), &["--since", "2021-01-01"]);
    assert!(with_secret(&findings, &old).is_empty());
    assert_eq!(
        one(&findings, &new)["locations"][0]["commit"]["date"],
        "2023-06-01T12:00:00+02:00"
    );
    let (_, findings, _) = audit(dir.path(), &["--until", "2021-01-01"]);
    assert!(with_secret(&findings, &new).is_empty());
    one(&findings, &old);
    let (code, _, err) = audit_text(dir.path(), &["--since", "last tuesday"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
}

/// A repository with keys spread over commits, branches, several packs and loose objects.
fn busy_repo() -> (tempfile::TempDir, Vec<String>) {
    let dir = init_repo();
    let mut keys = Vec::new();
    for round in 0..6 {
        for file in 0..4 {
            let key = openai_project_key();
            write(
                dir.path(),
                &format!("dir{file}/f{round}.env"),
                format!("# round {round}\n{}", key_line(&key)),
            );
            keys.push(key);
        }
        commit_all(dir.path(), &format!("round {round}"));
        if round % 2 == 1 {
            // A new pack for the objects written since the last one; the rest stay loose.
            pack_loose_objects(dir.path());
        }
    }
    git(dir.path(), &["checkout", "-q", "-b", "side", "HEAD~3"]);
    let key = openai_project_key();
    write(dir.path(), "side.env", key_line(&key));
    keys.push(key);
    commit_all(dir.path(), "side");
    git(dir.path(), &["checkout", "-q", "main"]);
    (dir, keys)
}

#[test]
fn parallel_run_equals_one_thread_run() {
    let (dir, keys) = busy_repo();
    let run = |j: &str| {
        keyhound()
            .args(["git", "--format", "json", "--no-redact", "-j", j])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let one_thread = run("1");
    let parallel = run("4");
    assert_eq!(one_thread.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&one_thread.stdout),
        String::from_utf8_lossy(&parallel.stdout)
    );
    let findings: Vec<Value> = json_findings(&parallel.stdout).as_array().unwrap().clone();
    for k in &keys {
        one(&findings, k);
    }
}

#[test]
fn many_packs_loose_objects_and_a_multi_pack_index() {
    let (dir, keys) = busy_repo();
    let packs = std::fs::read_dir(dir.path().join(".git/objects/pack"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "idx"))
        })
        .count();
    assert!(packs >= 3, "expected several packs, got {packs}");
    git(dir.path(), &["multi-pack-index", "write"]);
    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), keys.len());
    for k in &keys {
        one(&findings, k);
    }
}

#[test]
fn bare_repository_and_alternates() {
    let (dir, keys) = busy_repo();
    let bare = tempfile::tempdir().unwrap();
    let src = dir.path().to_str().unwrap();
    git(
        bare.path(),
        &["clone", "-q", "--bare", "--mirror", src, "repo.git"],
    );
    let (code, findings, _) = audit(&bare.path().join("repo.git"), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), keys.len());

    // A clone that borrows its objects through objects/info/alternates.
    let shared = tempfile::tempdir().unwrap();
    git(shared.path(), &["clone", "-q", "--shared", src, "repo"]);
    let (code, findings, _) = audit(&shared.path().join("repo"), &[]);
    assert_eq!(code, 1);
    // The clone has remote-tracking refs for both branches, so it sees the same keys.
    assert_eq!(findings.len(), keys.len());
}

#[test]
fn shallow_clone_scans_what_exists_and_says_so() {
    let dir = init_repo();
    let (old, new) = (openai_project_key(), openai_project_key());
    write(dir.path(), "old.env", key_line(&old));
    commit_all(dir.path(), "old");
    git(dir.path(), &["rm", "-q", "old.env"]);
    commit_all(dir.path(), "drop old");
    write(dir.path(), "new.env", key_line(&new));
    commit_all(dir.path(), "new");
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    git(
        clone.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let repo = clone.path().join("shallow");
    let (code, findings, _) = audit(&repo, &[]);
    assert_eq!(code, 1);
    one(&findings, &new);
    assert!(with_secret(&findings, &old).is_empty());
    let (_, text, _) = audit_text(&repo, &[]);
    assert!(text.contains("shallow clone"), "{text}");
}

#[test]
fn empty_repository_exits_zero_with_a_clear_message() {
    let dir = init_repo();
    let (code, text, err) = audit_text(dir.path(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("no commits: nothing to scan"), "{text}");
    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(findings.is_empty());
}

#[test]
fn not_a_repository_exits_two() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = audit_text(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not a git repository"), "{err}");
    let (code, _, err) = audit_text(&dir.path().join("nope"), &[]);
    assert_eq!(code, 2, "{err}");
}

/// The path of a loose object.
fn loose(dir: &Path, id: &str) -> std::path::PathBuf {
    dir.join(".git/objects").join(&id[..2]).join(&id[2..])
}

#[test]
fn missing_and_corrupt_objects_are_named_and_the_scan_goes_on() {
    let dir = init_repo();
    let (kept, k2, k3) = (
        openai_project_key(),
        openai_project_key(),
        openai_project_key(),
    );
    write(dir.path(), "kept.env", key_line(&kept));
    write(dir.path(), "gone.env", key_line(&k2));
    write(dir.path(), "bad.env", key_line(&k3));
    commit_all(dir.path(), "add");
    let gone = rev(dir.path(), "HEAD:gone.env");
    let bad = rev(dir.path(), "HEAD:bad.env");
    std::fs::remove_file(loose(dir.path(), &gone)).unwrap();
    let path = loose(dir.path(), &bad);
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"this is not zlib").unwrap();

    let (code, findings, err) = audit(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    one(&findings, &kept);
    assert!(err.contains(&gone) && err.contains("gone.env"), "{err}");
    assert!(err.contains(&bad) && err.contains("bad.env"), "{err}");
}

#[test]
fn missing_tree_is_named_and_the_scan_goes_on() {
    let dir = init_repo();
    let (kept, lost) = (openai_project_key(), openai_project_key());
    write(dir.path(), "top.env", key_line(&kept));
    write(dir.path(), "sub/lost.env", key_line(&lost));
    commit_all(dir.path(), "add");
    let tree = rev(dir.path(), "HEAD:sub");
    std::fs::remove_file(loose(dir.path(), &tree)).unwrap();
    let (code, findings, err) = audit(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    one(&findings, &kept);
    assert!(err.contains(&tree) && err.contains("sub"), "{err}");
}

/// A tree entry that says "file" but names a tree (a corrupt or hand-made tree): named as an
/// error, and the rest of the commit is still scanned.
#[test]
fn a_file_entry_naming_a_tree_is_named_and_the_scan_goes_on() {
    let dir = init_repo();
    let kept = openai_project_key();
    write(dir.path(), "kept.env", key_line(&kept));
    commit_all(dir.path(), "add");
    let blob = rev(dir.path(), "HEAD:kept.env");
    let tree = rev(dir.path(), "HEAD^{tree}");
    let raw = |hex: &str| -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect()
    };
    let mut entries = b"100644 kept.env\0".to_vec();
    entries.extend(raw(&blob));
    entries.extend(b"100644 odd.env\0");
    entries.extend(raw(&tree));
    let odd = git_input(
        dir.path(),
        &["hash-object", "-t", "tree", "-w", "--stdin", "--literally"],
        &[],
        &entries,
    );
    let commit = git_input(
        dir.path(),
        &["commit-tree", odd.trim(), "-m", "odd"],
        &[],
        b"",
    );
    git(dir.path(), &["update-ref", "refs/heads/odd", commit.trim()]);

    let (code, findings, err) = audit(dir.path(), &[]);
    assert_eq!(code, 2, "{err}");
    one(&findings, &kept);
    assert!(
        err.contains(&tree) && err.contains("odd.env") && err.contains("type"),
        "{err}"
    );
}

#[test]
fn gitlinks_lfs_pointers_large_and_binary_blobs() {
    let dir = init_repo();
    let (in_binary, in_large) = (openai_project_key(), openai_project_key());
    write(
        dir.path(),
        "model.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n",
    );
    let mut binary = vec![0u8, 1, 2, 3, 0, 0, 7];
    binary.extend(format!("\0{in_binary}\0").as_bytes());
    write(dir.path(), "blob.dat", &binary);
    let mut large = key_line(&in_large);
    large.push_str(&"x".repeat(5000));
    write(dir.path(), "large.env", &large);
    git(dir.path(), &["add", "-A"]);
    // A submodule entry pointing at a commit of another repository.
    git(
        dir.path(),
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,1111111111111111111111111111111111111111,vendor/lib",
        ],
    );
    git(dir.path(), &["commit", "-q", "-m", "odd files"]);

    let (code, findings, err) = audit(dir.path(), &["--max-blob-size", "4K"]);
    assert_eq!(code, 1, "{err}");
    one(&findings, &in_binary);
    assert!(with_secret(&findings, &in_large).is_empty());

    let (_, text, _) = audit_text(dir.path(), &["--max-blob-size", "4K"]);
    assert!(text.contains("skipped 1 submodule entry"), "{text}");
    assert!(text.contains("1 Git LFS pointer scanned"), "{text}");
    assert!(
        text.contains("incomplete: 1 item was not read whole"),
        "{text}"
    );
    assert!(
        text.contains("large.env (blob ") && text.contains("larger than --max-file-size"),
        "{text}"
    );
}

#[test]
fn non_utf8_and_very_long_paths() {
    use std::os::unix::ffi::OsStrExt;
    let dir = init_repo();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    std::fs::write(dir.path().join(name), key_line(&k1)).unwrap();
    let long: Vec<String> = (0..12)
        .map(|i| format!("{i:02}{}", "d".repeat(60)))
        .collect();
    let long = format!("{}/deep.env", long.join("/"));
    write(dir.path(), &long, key_line(&k2));
    commit_all(dir.path(), "odd paths");

    let (code, findings, _) = audit(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        one(&findings, &k1)["locations"][0]["path"],
        "caf\u{fffd}.env"
    );
    assert_eq!(one(&findings, &k2)["locations"][0]["path"], long.as_str());
}

#[test]
fn quiet_and_non_terminal_stderr_stay_empty() {
    let dir = init_repo();
    write(dir.path(), "app.env", key_line(&openai_project_key()));
    commit_all(dir.path(), "add");
    let (code, text, err) = audit_text(dir.path(), &["-q"]);
    assert_eq!(code, 1);
    assert!(err.is_empty(), "{err}");
    assert!(!text.contains("history: 1 commit"), "{text}");
    let (_, _, err) = audit_text(dir.path(), &[]);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn default_repository_is_the_current_directory() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "sub/app.env", key_line(&key));
    commit_all(dir.path(), "add");
    keyhound()
        .args(["git", "--format", "json"])
        .current_dir(dir.path().join("sub"))
        .assert()
        .code(1);
}

#[test]
fn bad_selections_exit_two_and_say_why() {
    let dir = init_repo();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "start");
    let (code, _, err) = audit_text(dir.path(), &["--branch", "nosuch"]);
    assert_eq!(code, 2);
    assert!(err.contains("--branch nosuch"), "{err}");
    let (code, _, err) = audit_text(dir.path(), &["--range", "HEAD..HEAD", "--branch", "main"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be combined"), "{err}");
    let (code, _, err) = audit_text(dir.path(), &["--range", "HEAD"]);
    assert_eq!(code, 2);
    assert!(err.contains("A..B"), "{err}");
}

/// A blob first committed at an ignored path and later at another path (the same content:
/// one blob id) is scanned, and reported at the path that is not ignored; so is a directory
/// copied whole (one tree id) out of an ignored one.
#[test]
fn a_blob_first_seen_at_an_ignored_path_is_still_scanned_elsewhere() {
    let dir = init_repo();
    let d = dir.path();
    write(d, ".keyhoundignore", "docs/\n");
    let (one, two) = (openai_project_key(), openai_project_key());
    write(d, "docs/leak.env", key_line(&one));
    write(d, "docs/sub/deep.env", key_line(&two));
    commit_all(d, "docs");
    let (code, findings, _) = audit(d, &[]);
    assert_eq!(code, 0, "{findings:?}");
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::copy(d.join("docs/leak.env"), d.join("src/prod.env")).unwrap();
    commit_all(d, "copy one file");
    let (code, findings, _) = audit(d, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["secret"], one.as_str());
    assert_eq!(findings[0]["locations"][0]["path"], "src/prod.env");
    // A whole directory copied: the same tree id under another name.
    git(d, &["mv", "docs/sub", "deploy"]);
    commit_all(d, "move the directory");
    let (_, findings, _) = audit(d, &[]);
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["locations"][0]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/prod.env", "deploy/deep.env"], "{findings:?}");
    // Range mode (what commits introduce) takes the same care.
    let (_, findings, _) = audit(d, &["--range", "HEAD~2..HEAD"]);
    assert_eq!(findings.len(), 2, "{findings:?}");
}

/// The first CI run of a pull request with the default shallow checkout: the base branch is
/// not in the clone. The error says what is missing and how to get it, once.
#[test]
fn a_range_whose_base_is_not_fetched_says_how_to_fetch_it() {
    let upstream = init_repo();
    write(upstream.path(), "README.md", "hello\n");
    commit_all(upstream.path(), "base");
    git(upstream.path(), &["checkout", "-q", "-b", "feature"]);
    write(upstream.path(), "app.py", "print(1)\n");
    commit_all(upstream.path(), "feature");
    let work = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    git(
        work.path(),
        &[
            "clone", "-q", "--depth", "1", "--branch", "feature", &url, "pr",
        ],
    );
    let pr = work.path().join("pr");
    let (code, _, err) = audit_text(&pr, &["--range", "origin/main..HEAD"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("origin/main") && err.contains("fetch-depth: 0"),
        "{err}"
    );
    assert!(err.contains("git fetch origin main"), "{err}");
    assert_eq!(err.matches("not found").count(), 1, "said twice: {err}");
    assert!(!err.contains("class="), "raw libgit2 text: {err}");
}

/// Small things a newcomer trips over: a file given to `keyhound git`, `--staged` in a bare
/// repository, "1 files", sizes in bytes, HEAD counted as a ref, and "still present" judged
/// at the end of the range rather than at the checkout.
#[test]
fn the_small_things_a_newcomer_trips_over() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "root");
    git(d, &["tag", "root"]);
    let key = openai_project_key();
    write(d, "app.env", key_line(&key));
    commit_all(d, "add");
    let (code, _, err) = audit_text(&d.join("app.env"), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not a repository") && err.contains("keyhound scan"),
        "{err}"
    );
    let (code, text, _) = audit_text(d, &["--range", "root..HEAD"]);
    assert_eq!(code, 1);
    assert!(text.contains("1 finding in 1 file version ("), "{text}");
    assert!(text.contains(" bytes, 0 binary)"), "{text}");
    let (_, text, _) = audit_text(d, &[]);
    assert!(
        text.contains("from 2 refs,"),
        "HEAD counted as a ref: {text}"
    );
    // The key is removed on a branch; the range ending before the removal says it is still
    // there, whatever is checked out.
    write(d, "other.txt", "x\n");
    commit_all(d, "more");
    git(d, &["tag", "with-key"]);
    std::fs::remove_file(d.join("app.env")).unwrap();
    commit_all(d, "remove");
    let (_, findings, _) = audit(d, &["--range", "root..with-key"]);
    assert_eq!(findings[0]["git"]["present_at_head"], true, "{findings:?}");
    let (_, findings, _) = audit(d, &["--range", "root..HEAD"]);
    assert_eq!(findings[0]["git"]["present_at_head"], false, "{findings:?}");

    let bare = tempfile::tempdir().unwrap();
    git(bare.path(), &["init", "-q", "--bare"]);
    let out = output(keyhound().args(["git", "--staged"]).arg(bare.path()), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bare repository has no index"), "{err}");
}

/// `--range A...B`: what B adds since it left A (the merge-base form), as a pull request
/// shows it, even after A moved on with a key of its own.
#[test]
fn a_three_dot_range_scans_what_the_branch_adds_since_it_left() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "base");
    git(d, &["checkout", "-q", "-b", "feature"]);
    let theirs = openai_project_key();
    write(d, "feature.env", key_line(&theirs));
    commit_all(d, "feature adds a key");
    git(d, &["checkout", "-q", "main"]);
    write(d, "main.env", key_line(&openai_project_key()));
    commit_all(d, "main adds another");
    git(d, &["checkout", "-q", "feature"]);
    let (code, findings, err) = audit(d, &["--range", "main...feature"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["secret"], theirs.as_str());
}

/// A key pasted into a commit message (and into an annotated tag's) lives in history as long
/// as the commit: it is found, located at the message, grouped with the same key elsewhere,
/// redacted; `--no-messages` leaves messages out; a range scans its commits' messages.
#[test]
fn keys_in_commit_and_tag_messages_are_found() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "base");
    let key = openai_project_key();
    write(d, "notes.txt", "nothing here\n");
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            &format!("try the new client\n\nrun it with\nOPENAI_API_KEY={key} python app.py\n"),
        ],
    );
    let tag_key = openai_project_key();
    git(
        d,
        &["tag", "-a", "v1", "-m", &format!("release\nkey: {tag_key}")],
    );
    let (code, findings, _) = audit(d, &[]);
    assert_eq!(code, 1);
    let commit = git(d, &["rev-parse", "HEAD"]);
    let short = &commit.trim()[..12];
    let f = findings
        .iter()
        .find(|f| f["secret"] == key.as_str())
        .expect("message key found");
    let l = &f["locations"][0];
    assert_eq!(l["path"], format!("message of commit {short}"));
    assert_eq!(l["line"], 4);
    assert_eq!(l["column"], 16);
    assert_eq!(l["commit"]["id"], commit.trim());
    let t = findings
        .iter()
        .find(|f| f["secret"] == tag_key.as_str())
        .expect("tag key found");
    assert_eq!(t["locations"][0]["path"], "message of tag v1");
    // Grouped with the same key in a file: one finding, both locations.
    write(d, "app.env", key_line(&key));
    commit_all(d, "now in a file too");
    let (_, findings, _) = audit(d, &[]);
    let f: Vec<_> = findings
        .iter()
        .filter(|f| f["secret"] == key.as_str())
        .collect();
    assert_eq!(f.len(), 1, "{findings:?}");
    assert_eq!(f[0]["locations"].as_array().unwrap().len(), 2);
    let (_, findings, _) = audit(d, &["--no-messages"]);
    assert!(findings.iter().all(|f| f["secret"] != tag_key.as_str()));
    assert_eq!(
        findings
            .iter()
            .filter(|f| f["secret"] == key.as_str())
            .count(),
        1
    );
    // A range: the messages of its commits.
    let (code, findings, _) = audit(d, &["--range", "HEAD~2..HEAD~1"]);
    assert_eq!(code, 1);
    assert!(findings
        .iter()
        .any(|f| f["locations"][0]["path"] == format!("message of commit {short}")));
    // Redacted by default, like any secret.
    let (_, text, _) = audit_text(d, &[]);
    assert!(
        text.contains(&format!("message of commit {short}:4:16")),
        "{text}"
    );
    assert!(!text.contains(&key[12..key.len() - 4]), "{text}");
}

#[test]
fn timings_name_the_rules_that_cost_the_most() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), "app.env", key_line(&key));
    commit_all(dir.path(), "add");
    let out = keyhound()
        .env("KEYHOUND_TIMINGS", "1")
        .arg("git")
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .expect("keyhound runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("keyhound: timings: total"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("keyhound: rule time: "))
        .unwrap_or_else(|| panic!("no rule time line: {stderr}"));
    assert!(
        line.contains("openai-project-key ") && line.contains("(1 proposed, 1 searched, 1 kept)"),
        "{line}"
    );
    // Without the variable, neither line.
    let (_, _, quiet) = audit_text(dir.path(), &[]);
    assert!(!quiet.contains("rule time"), "{quiet}");
}
