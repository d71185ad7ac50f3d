//! End-to-end tests: what keyhound cannot or will not read whole. A scan that could not read
//! everything it was asked to is incomplete and says so (exit 3 unless the policy is warn), in
//! the hook and the CI gate too; every read is bounded (special files, `/proc`, stdin, huge
//! blobs, settings files pointing at devices); text that looks binary only for its encoding
//! (UTF-16 without a byte-order mark) is read as text.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::util::*;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn head(d: &Path) -> String {
    git(d, &["rev-parse", "HEAD"]).trim().to_string()
}

/// A repository with one commit and keyhound's pre-commit hook.
fn repo_with_hook() -> tempfile::TempDir {
    let dir = init_repo();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "init");
    keyhound_in(dir.path())
        .args(["hook", "install"])
        .assert()
        .success();
    dir
}

#[test]
fn hook_stops_a_commit_of_a_file_over_the_size_limit_and_says_why() {
    let dir = repo_with_hook();
    let d = dir.path();
    // 101 MiB of dump with the key at the end: over the default 100 MiB limit.
    let key = openai_project_key();
    let line = b"INSERT INTO log VALUES (1, 'lorem ipsum dolor sit amet');\n";
    let mut dump = Vec::with_capacity(101 << 20);
    while dump.len() < (101 << 20) {
        dump.extend_from_slice(line);
    }
    dump.extend_from_slice(key_line(&key).as_bytes());
    write(d, "dump.sql", &dump);
    drop(dump);
    git(d, &["add", "dump.sql"]);
    let before = head(d);
    let out = git_output(d, &["commit", "-q", "-m", "dump"], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "the commit must be stopped: {t}");
    assert_eq!(head(d), before, "{t}");
    // The hook runs keyhound with --quiet: the reason is on stderr all the same.
    assert!(
        t.contains("keyhound: incomplete: dump.sql (blob ")
            && t.contains("larger than --max-file-size (101.0 MiB > 100 MiB); not scanned"),
        "{t}"
    );
    assert!(
        t.contains("on_incomplete = \"warn\"") && t.contains("the check is incomplete"),
        "{t}"
    );
    // A team that chooses warn: the commit goes through, and the warning is still printed.
    write(d, ".keyhound.toml", "[scan]\non_incomplete = \"warn\"\n");
    let out = git_output(d, &["commit", "-q", "-m", "dump"], &[]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert_ne!(head(d), before);
    assert!(
        t.contains("incomplete: dump.sql") && t.contains("warning: the scan is incomplete"),
        "{t}"
    );
}

#[test]
fn range_gate_fails_on_a_blob_over_the_limit() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "init");
    let base = head(d);
    let mut big = vec![b'x'; 2 << 20];
    big.extend_from_slice(key_line(&openai_project_key()).as_bytes());
    write(d, "assets/bundle.js", &big);
    commit_all(d, "bundle");
    let range = format!("{base}..HEAD");
    let out = keyhound()
        .args([
            "git",
            "--range",
            &range,
            "--max-file-size",
            "1M",
            "-f",
            "json",
        ])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let blob = git(d, &["rev-parse", "HEAD:assets/bundle.js"]);
    assert_eq!(
        json_summary(&out.stdout)["incomplete"],
        json!([{
            "what": "assets/bundle.js",
            "blob": blob.trim(),
            "reason": {"kind": "too_large", "size": big.len(), "limit": 1 << 20}
        }])
    );
    let out = keyhound()
        .args([
            "git",
            "--range",
            &range,
            "--max-file-size",
            "1M",
            "-f",
            "sarif",
        ])
        .arg(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("assets/bundle.js")),
        "{notes}"
    );
    // With the limit raised, the gate sees the key.
    keyhound()
        .args(["git", "--range", &range])
        .arg(d)
        .assert()
        .code(1);
}
