//! End-to-end tests: `keyhound baseline create`, and scans, hooks and the CI gate that load
//! the baseline and report only what is new.

use std::path::Path;

use crate::util::*;
use serde_json::Value;

fn create(d: &Path, args: &[&str]) -> String {
    let out = keyhound_in(d)
        .args(["baseline", "create"])
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("UTF-8 output")
}

fn read_baseline(d: &Path) -> Vec<u8> {
    std::fs::read(d.join(".keyhound-baseline.json")).expect("baseline written")
}

#[test]
fn baseline_suppresses_known_keys_and_still_blocks_a_new_one() {
    let dir = init_repo();
    let d = dir.path();
    let old = openai_project_key();
    write(d, "legacy/config.py", format!("X = 1\nKEY = '{old}'\n"));
    commit_all(d, "years ago");
    keyhound_in(d).args(["scan", "."]).assert().code(1);
    let said = create(d, &[]);
    assert!(said.contains("1 finding"), "{said}");
    keyhound_in(d).args(["scan", "."]).assert().code(0);
    git(d, &["add", ".keyhound-baseline.json"]);
    git(d, &["commit", "-q", "-m", "baseline"]);
    keyhound_in(d).args(["hook", "install"]).assert().success();
    // The known key pasted somewhere new: accepted, it is in the baseline.
    write(d, "app/settings.py", format!("KEY = '{old}'\n"));
    git(d, &["add", "-A"]);
    let out = git_output(d, &["commit", "-m", "reuse"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A new key is still stopped.
    write(d, "app/new.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let out = git_output(d, &["commit", "-m", "new key"], &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("app/new.env:1:16"));
    // `--baseline FILE` works from elsewhere too.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(
        d.join(".keyhound-baseline.json"),
        other.path().join("b.json"),
    )
    .unwrap();
    std::fs::remove_file(d.join(".keyhound-baseline.json")).unwrap();
    keyhound_in(d).args(["scan", "legacy"]).assert().code(1);
    keyhound_in(d)
        .args(["scan", "legacy", "--baseline"])
        .arg(other.path().join("b.json"))
        .assert()
        .code(0);
}

#[test]
fn baseline_is_byte_identical_and_position_independent() {
    let dir = init_repo();
    let d = dir.path();
    let (a, b) = (openai_project_key(), openai_project_key());
    write(d, "one.env", format!("{}{}", key_line(&a), key_line(&b)));
    write(d, "two/three.py", format!("k = '{a}'\n"));
    create(d, &[]);
    let first = read_baseline(d);
    create(d, &[]);
    assert_eq!(read_baseline(d), first, "created twice");
    // Lines added above, keys swapped, a file renamed: the same baseline.
    write(
        d,
        "one.env",
        format!("# header\n\n{}# mid\n{}", key_line(&b), key_line(&a)),
    );
    std::fs::rename(d.join("two/three.py"), d.join("two/four.py")).unwrap();
    create(d, &[]);
    assert_eq!(read_baseline(d), first, "moved and renamed");
    let v: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(v["version"], 2);
    assert_eq!(v["salt"].as_str().map(str::len), Some(32), "{v}");
    let entries = v["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per distinct secret: {v}");
    let fps: Vec<&str> = entries
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap())
        .collect();
    let mut sorted = fps.clone();
    sorted.sort();
    assert_eq!(fps, sorted);
    let text = String::from_utf8(first).unwrap();
    assert!(
        !text.contains(&a[10..]) && !text.contains(&b[10..]),
        "{text}"
    );
    assert!(text.ends_with("}\n"));
    // The entries are keyed with the file's salt: not the fingerprints keyhound prints, so
    // the committed file gives no unsalted hash of a secret to test guesses against.
    let out = output(
        keyhound_in(d).args(["scan", "one.env", "-f", "json", "--no-repo-config"]),
        1,
    );
    for f in json_findings(&out.stdout).as_array().unwrap() {
        assert!(!text.contains(f["fingerprint"].as_str().unwrap()), "{text}");
    }
    // `--output` elsewhere: a new file with its own salt, the same bytes when made again.
    let other = tempfile::tempdir().unwrap();
    let out = other.path().join("base.json");
    create(d, &["--output", out.to_str().unwrap()]);
    let elsewhere = std::fs::read(&out).unwrap();
    assert_ne!(elsewhere, text.as_bytes());
    create(d, &["--output", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), elsewhere);
    keyhound_in(d)
        .args([
            "scan",
            ".",
            "--no-repo-config",
            "--baseline",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(0);
}

#[test]
fn ci_gate_reports_new_keys_of_the_range_not_baselined_ones() {
    let dir = init_repo();
    let d = dir.path();
    let old = openai_project_key();
    write(d, "legacy.env", key_line(&old));
    commit_all(d, "old");
    create(d, &[]);
    commit_all(d, "baseline");
    git(d, &["checkout", "-q", "-b", "pr"]);
    write(d, "copy.env", key_line(&old));
    commit_all(d, "reuses the old key");
    keyhound_in(d)
        .args(["git", "--range", "main..pr"])
        .assert()
        .code(0);
    write(
        d,
        "src/app.env",
        format!("A=1\n{}", key_line(&openai_project_key())),
    );
    commit_all(d, "adds a new key");
    let out = output(
        keyhound_in(d).args(["git", "--range", "main..pr", "--format", "github"]),
        1,
    )
    .stdout;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("::error file=src/app.env,line=2,col=16,"),
        "{text}"
    );
    let out = output(
        keyhound_in(d).args(["git", "--range", "main..pr", "--format", "sarif"]),
        1,
    )
    .stdout;
    let sarif: Value = serde_json::from_slice(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{sarif}");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/app.env"
    );
}

/// An old repository whose keys were rotated long ago stays red in audits until its
/// history is baselined: `baseline create --history` records what `keyhound git` finds.
#[test]
fn a_baseline_made_from_history_quiets_the_audit() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "old.env", key_line(&openai_project_key()));
    commit_all(d, "long ago");
    std::fs::remove_file(d.join("old.env")).unwrap();
    commit_all(d, "rotated and removed");
    keyhound_in(d).args(["git"]).assert().code(1);
    // The working tree has nothing: a tree baseline would not help.
    create(d, &[]);
    keyhound_in(d).args(["git"]).assert().code(1);
    let said = create(d, &["--history"]);
    assert!(said.contains("1 finding"), "{said}");
    keyhound_in(d).args(["git"]).assert().code(0);
    // A new key in a new commit is still found.
    write(d, "new.env", key_line(&openai_project_key()));
    commit_all(d, "new");
    keyhound_in(d).args(["git"]).assert().code(1);
}
