//! End-to-end tests: `keyhound git --staged`, the scan of what the next commit adds (the
//! index compared with HEAD), on repositories made with the git CLI.

use std::path::Path;

use crate::util::*;
use serde_json::Value;

/// Runs the staged scan in `dir` with `env`, expecting `code`; returns the JSON findings.
fn staged_json(dir: &Path, env: &[(&str, &str)], code: i32) -> Vec<Value> {
    let v = run_json(
        keyhound_in(dir)
            .args(["git", "--staged", "--format", "json"])
            .envs(env.iter().copied()),
        code,
    );
    v.as_array().expect("an array").clone()
}

/// `(path, line, rule)` of each finding.
fn places(findings: &[Value]) -> Vec<(String, u64, String)> {
    findings
        .iter()
        .map(|f| {
            let l = &f["locations"][0];
            (
                l["path"].as_str().expect("path").to_string(),
                l["line"].as_u64().expect("line"),
                f["rule_id"].as_str().expect("rule id").to_string(),
            )
        })
        .collect()
}

fn place(path: &str, line: u64) -> (String, u64, String) {
    (path.to_string(), line, "openai-project-key".to_string())
}

#[test]
fn scans_the_index_not_the_working_tree_with_staged_line_numbers() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "app/settings.py", "DEBUG = False\nNAME = 'x'\n");
    commit_all(d, "init");
    let key = openai_project_key();
    write(
        d,
        "app/settings.py",
        format!("DEBUG = False\nNAME = 'x'\n{}", key_line(&key)),
    );
    git(d, &["add", "app/settings.py"]);
    // After staging: the working tree moves the key down and another key sits untracked.
    write(
        d,
        "app/settings.py",
        format!("# a\n# b\nDEBUG = False\nNAME = 'x'\n{}", key_line(&key)),
    );
    write(d, "untracked.env", key_line(&openai_project_key()));
    let found = staged_json(d, &[], 1);
    assert_eq!(places(&found), vec![place("app/settings.py", 3)]);
    assert_eq!(found[0]["locations"][0]["column"], 16);
    let blob = git(d, &["rev-parse", ":app/settings.py"]);
    assert_eq!(found[0]["locations"][0]["blob"], blob.trim());
    // Nothing staged, nothing found (the working tree still has both keys).
    git(d, &["restore", "--staged", "app/settings.py"]);
    assert!(staged_json(d, &[], 0).is_empty());
}

#[test]
fn keys_already_committed_are_not_reported_again_new_ones_are() {
    let dir = init_repo();
    let d = dir.path();
    let (old, new) = (openai_project_key(), openai_project_key());
    write(d, "config.env", format!("A=1\n{}B=2\n", key_line(&old)));
    write(d, "moved/from.env", key_line(&old));
    commit_all(d, "old key, committed before keyhound");
    // Lines added above the old key, the new key at the end, a rename with an edit.
    write(
        d,
        "config.env",
        format!("# x\n# y\nA=1\n{}B=2\n{}", key_line(&old), key_line(&new)),
    );
    git(d, &["mv", "moved/from.env", "moved/to.env"]);
    write(d, "moved/to.env", format!("# renamed\n{}", key_line(&old)));
    git(d, &["add", "-A"]);
    let found = staged_json(d, &[], 1);
    assert_eq!(places(&found), vec![place("config.env", 6)]);
    // The same new key twice: every location is reported (each must be fixed).
    write(
        d,
        "second.env",
        format!("{}\n{}", key_line(&new), key_line(&new)),
    );
    git(d, &["add", "second.env"]);
    let found = staged_json(d, &[], 1);
    assert_eq!(
        places(&found),
        vec![
            place("config.env", 6),
            place("second.env", 1),
            place("second.env", 3)
        ]
    );
}

#[test]
fn names_with_spaces_quotes_and_non_ascii() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hi\n");
    commit_all(d, "init");
    let names = [
        "dir with space/it's \"quoted\".env",
        "ünïcödé/ключ.txt",
        "-starts-with-dash.env",
    ];
    for n in names {
        write(d, n, key_line(&openai_project_key()));
    }
    git(d, &["add", "-A"]);
    let mut got: Vec<String> = places(&staged_json(d, &[], 1))
        .into_iter()
        .map(|p| p.0)
        .collect();
    got.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn binary_files_are_scanned_and_compared_with_their_old_version() {
    let dir = init_repo();
    let d = dir.path();
    let key = openai_project_key();
    let mut blob = vec![0u8, 1, 2, 0, 0xff];
    blob.extend_from_slice(key.as_bytes());
    blob.extend_from_slice(&[0, 0, 7]);
    write(d, "clean.bin", [0u8, 1, 2, 3, 0, 0]);
    write(d, "data.bin", &blob);
    git(d, &["add", "-A"]);
    let found = staged_json(d, &[], 1);
    assert_eq!(places(&found), vec![place("data.bin", 1)]);
    git(
        d,
        &["commit", "-q", "--no-verify", "-m", "binary with a key"],
    );
    // The same key in the changed binary is not new; a second key is.
    blob.extend_from_slice(b"more\0");
    write(d, "data.bin", &blob);
    git(d, &["add", "-A"]);
    assert!(staged_json(d, &[], 0).is_empty());
    blob.extend_from_slice(openai_project_key().as_bytes());
    write(d, "data.bin", &blob);
    git(d, &["add", "-A"]);
    assert_eq!(staged_json(d, &[], 1).len(), 1);
}

#[test]
fn first_commit_and_empty_index() {
    let dir = init_repo();
    let d = dir.path();
    assert!(staged_json(d, &[], 0).is_empty());
    write(d, "a.env", key_line(&openai_project_key()));
    write(d, "b.txt", "nothing\n");
    git(d, &["add", "-A"]);
    assert_eq!(places(&staged_json(d, &[], 1)), vec![place("a.env", 1)]);
}

#[test]
fn unresolved_conflict_is_an_error_naming_the_file() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "f.txt", "base\n");
    commit_all(d, "base");
    git(d, &["checkout", "-q", "-b", "other"]);
    write(d, "f.txt", "theirs\n");
    commit_all(d, "theirs");
    git(d, &["checkout", "-q", "main"]);
    write(d, "f.txt", "ours\n");
    commit_all(d, "ours");
    let merge = git_output(d, &["merge", "-q", "other"], &[]);
    assert!(!merge.status.success(), "the merge should conflict");
    keyhound_in(d)
        .args(["git", "--staged"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "f.txt: unresolved merge conflict",
        ));
}

/// A change touching every kind of entry: added, modified, deleted (a file and a whole
/// directory), renamed, mode-only, symbolic link, nested directories, a key in a new directory.
fn busy_change(d: &Path) -> String {
    for i in 0..20 {
        write(
            d,
            &format!("src/m{i}/lib.rs"),
            format!("pub fn f{i}() {{}}\n"),
        );
    }
    write(d, "docs/a.md", "a\n");
    write(d, "gone/x.txt", "x\n");
    write(d, "gone/deep/y.txt", "y\n");
    write(d, "run.sh", "echo hi\n");
    write(d, "z-last.txt", "z\n");
    commit_all(d, "init");
    let key = openai_project_key();
    write(d, "src/m3/lib.rs", "pub fn f3() { let _ = 1; }\n");
    write(d, "src/m7/new/deeper/keys.env", key_line(&key));
    write(d, "src/m7.rs", key_line(&openai_project_key()));
    write(
        d,
        "docs/a.md",
        format!("a\n{}", key_line(&openai_project_key())),
    );
    std::fs::remove_dir_all(d.join("gone")).expect("rm -r");
    git(d, &["mv", "z-last.txt", "a-first.txt"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        std::os::unix::fs::symlink("docs/a.md", d.join("link")).expect("symlink");
    }
    git(d, &["add", "-A"]);
    key
}

#[test]
fn every_way_of_reading_the_index_agrees() {
    let dir = init_repo();
    let d = dir.path();
    busy_change(d);
    let want = places(&staged_json(d, &[("KEYHOUND_STAGED_DIFF", "git")], 1));
    assert_eq!(
        want,
        vec![
            place("docs/a.md", 2),
            place("src/m7.rs", 1),
            place("src/m7/new/deeper/keys.env", 1)
        ]
    );
    for method in ["auto", "index", "libgit2"] {
        let got = places(&staged_json(d, &[("KEYHOUND_STAGED_DIFF", method)], 1));
        assert_eq!(got, want, "{method}");
    }
    // The same with an index that has no cached trees (every directory is compared).
    std::fs::remove_file(d.join(".git/index")).unwrap();
    git(d, &["add", "-A"]);
    for method in ["index", "git"] {
        let got = places(&staged_json(d, &[("KEYHOUND_STAGED_DIFF", method)], 1));
        assert_eq!(got, want, "{method}, no cached tree");
    }
    // Index version 4 (path-compressed entries).
    git(d, &["update-index", "--index-version", "4"]);
    let got = places(&staged_json(d, &[("KEYHOUND_STAGED_DIFF", "index")], 1));
    assert_eq!(got, want, "index v4");
}

#[test]
fn split_and_sparse_indexes_fall_back_to_git() {
    let dir = init_repo();
    let d = dir.path();
    let key = busy_change(d);
    git(d, &["commit", "-q", "--no-verify", "-m", "busy"]);
    write(
        d,
        "src/m1/lib.rs",
        format!("pub fn f1() {{}}\n{}", key_line(&key)),
    );
    write(d, "src/m2/new.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let want = vec![place("src/m1/lib.rs", 2), place("src/m2/new.env", 1)];
    git(d, &["update-index", "--split-index"]);
    assert!(d.join(".git").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("sharedindex.")));
    assert_eq!(places(&staged_json(d, &[], 1)), want, "split index");
    keyhound_in(d)
        .args(["git", "--staged"])
        .env("KEYHOUND_STAGED_DIFF", "index")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("split index"));
    git(d, &["update-index", "--no-split-index"]);
    git(d, &["commit", "-q", "--no-verify", "-m", "two keys"]);
    git(
        d,
        &[
            "sparse-checkout",
            "set",
            "--cone",
            "--sparse-index",
            "src/m2",
        ],
    );
    write(d, "src/m2/more.env", key_line(&openai_project_key()));
    git(d, &["add", "src/m2/more.env"]);
    assert_eq!(
        places(&staged_json(d, &[], 1)),
        vec![place("src/m2/more.env", 1)],
        "sparse index"
    );
}

#[test]
fn five_thousand_staged_files() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hi\n");
    commit_all(d, "init");
    for i in 0..5000 {
        let body = if i == 4321 {
            key_line(&openai_project_key())
        } else {
            format!("value_{i} = {}\n", i * 7)
        };
        write(d, &format!("gen/d{}/f{i}.txt", i % 50), body);
    }
    git(d, &["add", "-A"]);
    let found = staged_json(d, &[], 1);
    assert_eq!(places(&found), vec![place("gen/d21/f4321.txt", 1)]);
    // One thread and many give the same.
    let serial = run_json(
        keyhound_in(d).args(["git", "--staged", "--format", "json", "-j", "1"]),
        1,
    );
    assert_eq!(serial.as_array().unwrap(), &found);
}

/// HEAD's tree object is missing: the error names the tree (and the commit it belongs to).
#[test]
fn a_missing_head_tree_is_named() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "a.txt", "a\n");
    commit_all(d, "one");
    let tree = git(d, &["rev-parse", "HEAD^{tree}"]).trim().to_string();
    std::fs::remove_file(d.join(".git/objects").join(&tree[..2]).join(&tree[2..])).unwrap();
    write(d, "b.txt", "b\n");
    git(d, &["add", "b.txt"]);
    let out = output(keyhound_in(d).args(["git", "--staged"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("reading tree {tree}")), "{err}");
    assert!(!err.contains("class="), "{err}");
}
