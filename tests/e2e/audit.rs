//! `keyhound audit` and `keyhound merge`: many repositories in one report, each blob once,
//! incremental with a state, split into shards and merged back byte for byte.

use std::path::{Path, PathBuf};

use crate::util::*;

/// A repository at `dir` with one commit of `files`.
fn repo_with(dir: &Path, files: &[(&str, String)], msg: &str) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    for (path, text) in files {
        write(dir, path, text);
    }
    commit_all(dir, msg);
}

fn audit(dir: &Path) -> assert_cmd::Command {
    let mut cmd = keyhound_in(dir);
    cmd.arg("audit");
    cmd
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The counts of the stderr line `keyhound: audit: N repositories (R from the state), S
/// blobs scanned, U reused`.
fn work(out: &std::process::Output) -> (u64, u64, u64) {
    let err = stderr(out);
    let line = err
        .lines()
        .find(|l| l.starts_with("keyhound: audit: "))
        .unwrap_or_else(|| panic!("no audit line: {err}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    (nums[1], nums[2], nums[3])
}

/// Ten small repositories: `shared` holds one key in three of them (at different paths), each
/// of two others its own key, the rest nothing; one is a bare clone of another.
fn fleet(root: &Path) -> (Vec<String>, String) {
    let shared = openai_project_key();
    let mut names = Vec::new();
    for i in 0..9 {
        let name = format!("r{i}");
        let mut files = vec![("README.md", format!("repository {i}\n"))];
        files.push(("src/common.txt", "shared = true\n".to_string()));
        match i {
            0 => files.push((".env", key_line(&shared))),
            3 => files.push(("config/settings.env", key_line(&shared))),
            5 => files.push(("own.env", key_line(&openai_project_key()))),
            7 => files.push(("other.env", key_line(&openai_project_key()))),
            _ => {}
        }
        repo_with(&root.join(&name), &files, &format!("first of {i}"));
        names.push(name);
    }
    git(root, &["clone", "-q", "--bare", "r0", "r0-mirror.git"]);
    names.push("r0-mirror.git".to_string());
    (names, shared)
}

#[test]
fn one_secret_in_several_repositories_is_one_finding_listing_each() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (names, shared) = fleet(root);
    std::fs::create_dir_all(root.join("not-a-repo")).unwrap();
    let mut cmd = audit(root);
    cmd.args(&names)
        .arg("not-a-repo")
        .args(["--format", "json"]);
    let out = output(&mut cmd, 2);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{doc:#}");
    let shared_finding = findings
        .iter()
        .find(|f| f["repositories"].as_array().unwrap().len() > 1)
        .expect("the shared key is one finding");
    let repos: Vec<(&str, &str)> = shared_finding["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["repository"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        repos,
        [
            ("r0", ".env"),
            ("r0-mirror.git", ".env"),
            ("r3", "config/settings.env")
        ]
    );
    assert!(shared_finding["repositories"][2]["commit"].is_string());
    let s = &doc["summary"];
    assert_eq!(s["repositories"], 11);
    assert_eq!(s["findings"], 3);
    assert_eq!(s["commits"], 10);
    let errors = s["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .as_str()
            .unwrap()
            .starts_with("not-a-repo: not a git repository"),
        "{errors:?}"
    );
    assert!(stderr(&out).contains("not-a-repo: not a git repository"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&shared),
        "redacted by default"
    );

    // Each blob once: README and common.txt of r0 are the mirror's too.
    let (_, scanned, reused) = work(&out);
    let per_repo: u64 = s["blobs"].as_u64().unwrap();
    assert_eq!(scanned + reused, per_repo);
    // common.txt is one blob in nine repositories, the mirror holds r0's three.
    assert_eq!(reused, 8 + 3, "scanned {scanned}, reused {reused}");

    // Human output names the repositories; SARIF carries them.
    let mut cmd = audit(root);
    cmd.args(&names);
    let human = text(&output(&mut cmd, 1));
    assert!(human.contains("repositories: 3 hold it"), "{human}");
    assert!(
        human.contains("r3: config/settings.env:1 in commit"),
        "{human}"
    );
    let mut cmd = audit(root);
    cmd.args(&names).args(["--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_slice(&output(&mut cmd, 1).stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["properties"]["repositories"]
        .as_array()
        .is_some_and(|a| a.len() == 3)));
    // JSON lines: a finding a line, the summary last.
    let mut cmd = audit(root);
    cmd.args(&names).args(["--format", "jsonl"]);
    let jsonl = String::from_utf8(output(&mut cmd, 1).stdout).unwrap();
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["summary"]["repositories"], 10);
}

#[test]
fn shards_merged_equal_one_process_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (names, _) = fleet(root);
    let list = names.join("\n") + "\n# a comment\n\n";
    write(root, "repos.txt", &list);
    let mut cmd = audit(root);
    cmd.args([
        "--repos",
        "repos.txt",
        "--format",
        "json",
        "-o",
        "whole.json",
    ]);
    output(&mut cmd, 1);
    let whole = std::fs::read(root.join("whole.json")).unwrap();
    assert_eq!(json_summary(&whole)["repositories"], 10);
    for n in [1u32, 2, 3, 7] {
        let mut parts: Vec<PathBuf> = Vec::new();
        let mut covered = 0;
        for i in 0..n {
            let file = format!("shard-{n}-{i}.json");
            let mut cmd = audit(root);
            cmd.args(["--repos", "repos.txt", "--format", "json", "-o", &file]);
            // Three ways to name the shard: the flag, KEYHOUND_SHARD, JOB_COMPLETION_INDEX.
            match i % 3 {
                0 => {
                    cmd.args(["--shard", &format!("{i}/{n}")]);
                }
                1 => {
                    cmd.env("KEYHOUND_SHARD", format!("{i}/{n}"));
                }
                _ => {
                    cmd.env("JOB_COMPLETION_INDEX", i.to_string())
                        .args(["--shards", &n.to_string()]);
                }
            }
            let out = cmd.output().unwrap();
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
            let part = std::fs::read(root.join(&file)).unwrap();
            covered += json_summary(&part)["repositories"].as_u64().unwrap();
            parts.push(root.join(file));
        }
        assert_eq!(covered, 10, "the shards of {n} cover the list once");
        let merged = root.join(format!("merged-{n}.json"));
        let mut cmd = keyhound_in(root);
        cmd.arg("merge")
            .args(&parts)
            .args(["--format", "json", "-o"])
            .arg(&merged);
        output(&mut cmd, 1);
        let merged = std::fs::read(&merged).unwrap();
        assert!(
            merged == whole,
            "merge of {n} shards differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&merged),
            String::from_utf8_lossy(&whole)
        );
    }
    // The merged SARIF is the one-process SARIF.
    let parts: Vec<String> = (0..3).map(|i| format!("shard-3-{i}.json")).collect();
    let mut cmd = keyhound_in(root);
    cmd.arg("merge").args(&parts).args(["--format", "sarif"]);
    let merged_sarif = output(&mut cmd, 1).stdout;
    let mut cmd = audit(root);
    cmd.args(["--repos", "repos.txt", "--format", "sarif"]);
    assert_eq!(merged_sarif, output(&mut cmd, 1).stdout);
}

#[test]
fn merge_refuses_what_does_not_belong_together() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (names, shared) = fleet(root);
    let shard = |i: u32, n: u32, file: &str, extra: &[&str]| {
        let mut cmd = audit(root);
        cmd.args(&names)
            .args([
                "--shard",
                &format!("{i}/{n}"),
                "--format",
                "json",
                "-o",
                file,
            ])
            .args(extra);
        let out = cmd.output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    };
    shard(0, 2, "a0.json", &[]);
    shard(1, 2, "a1.json", &[]);
    shard(1, 2, "b1.json", &["--min-confidence", "high"]);
    shard(0, 3, "c0.json", &[]);
    let merge = |files: &[&str]| {
        let mut cmd = keyhound_in(root);
        cmd.arg("merge").args(files);
        text(&output(&mut cmd, 2))
    };
    let e = merge(&["a0.json", "b1.json"]);
    assert!(
        e.contains("b1.json") && e.contains("a0.json") && e.contains("different rules"),
        "{e}"
    );
    let e = merge(&["a0.json", "a0.json", "a1.json"]);
    assert!(e.contains("both shard 0/2"), "{e}");
    let e = merge(&["a0.json"]);
    assert!(e.contains("shard 1/2 missing"), "{e}");
    let e = merge(&["a0.json", "c0.json", "a1.json"]);
    assert!(e.contains("c0.json is shard 0/3"), "{e}");
    // A report of `keyhound git` is not an audit's.
    let mut cmd = keyhound_in(&root.join("r0"));
    cmd.args(["git", ".", "--format", "json", "-o", "../single.json"]);
    output(&mut cmd, 1);
    let e = merge(&["single.json"]);
    assert!(
        e.contains("single.json: not the JSON report of a `keyhound audit`"),
        "{e}"
    );

    // Shards that show their secrets merge into a redacted report unless asked.
    shard(0, 2, "n0.json", &["--no-redact"]);
    shard(1, 2, "n1.json", &["--no-redact"]);
    let mut cmd = keyhound_in(root);
    cmd.args(["merge", "n0.json", "n1.json", "--format", "json"]);
    let redacted = output(&mut cmd, 1).stdout;
    let mut cmd = keyhound_in(root);
    cmd.args(["merge", "a0.json", "a1.json", "--format", "json"]);
    assert_eq!(
        redacted,
        output(&mut cmd, 1).stdout,
        "as the redacted shards merge"
    );
    let mut cmd = keyhound_in(root);
    cmd.args([
        "merge",
        "n0.json",
        "n1.json",
        "--format",
        "json",
        "--no-redact",
    ]);
    assert!(String::from_utf8_lossy(&output(&mut cmd, 1).stdout).contains(&shared));
    let e = merge(&["a0.json", "a1.json", "--no-redact"]);
    assert!(e.contains("hold redacted secrets"), "{e}");

    // Shard specs that name no shard.
    for (args, words) in [
        (vec!["--shard", "2/2"], "below 2"),
        (vec!["--shard", "two"], "expected I/N"),
        (vec!["--shards", "3"], "JOB_COMPLETION_INDEX"),
    ] {
        let mut cmd = audit(root);
        cmd.args(&names)
            .args(&args)
            .env_remove("JOB_COMPLETION_INDEX");
        let e = text(&output(&mut cmd, 2));
        assert!(e.contains(words), "{args:?}: {e}");
    }
    let mut cmd = audit(root);
    cmd.args(&names)
        .args(["--shards", "3"])
        .env("JOB_COMPLETION_INDEX", "3");
    assert!(text(&output(&mut cmd, 2)).contains("below 3"));
}

#[test]
fn a_state_makes_the_next_audit_scan_only_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (names, shared) = fleet(root);
    let run = |extra: &[&str]| {
        let mut cmd = audit(root);
        cmd.args(&names)
            .args(["--state", "state", "--format", "json"])
            .args(extra);
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        out
    };
    let first = run(&[]);
    let (from_state, scanned, _) = work(&first);
    assert_eq!(from_state, 0);
    assert!(scanned > 10);

    let again = run(&[]);
    assert_eq!(again.stdout, first.stdout, "a re-audit reports the same");
    assert_eq!(
        work(&again),
        (10, 0, 0),
        "nothing changed: nothing walked, nothing scanned"
    );

    // One new commit in a repository without findings: one blob scanned.
    write(&root.join("r8"), "notes.txt", "a new file\n");
    commit_all(&root.join("r8"), "second");
    let third = run(&[]);
    assert_eq!(work(&third).0, 9);
    assert_eq!(work(&third).1, 1, "{}", stderr(&third));
    let mut fresh = audit(root);
    fresh.args(&names).args(["--format", "json"]);
    assert_eq!(
        third.stdout,
        output(&mut fresh, 1).stdout,
        "same as an audit without a state"
    );

    // The state holds no secret, even after a run that shows them.
    let shown = run(&["--no-redact"]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&shared));
    assert_eq!(
        work(&shown).0,
        0,
        "a state cannot show secrets: every repository walked again"
    );
    for entry in walk_files(&root.join("state")) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&shared[12..40]),
            "{} holds the secret",
            entry.display()
        );
    }

    // An interrupted audit: a repository whose entry is missing is scanned, the rest reused.
    let parts: Vec<PathBuf> = walk_files(&root.join("state/repos"));
    std::fs::remove_file(&parts[0]).unwrap();
    let resumed = run(&[]);
    assert_eq!(work(&resumed).0, 9);
    assert_eq!(resumed.stdout, third.stdout);

    // A damaged seen file is named and its blobs scanned again.
    let seen = walk_files(&root.join("state/seen"));
    std::fs::write(&seen[0], b"garbage").unwrap();
    let damaged = run(&[]);
    assert!(
        stderr(&damaged).contains("not a keyhound seen file"),
        "{}",
        stderr(&damaged)
    );
    assert_eq!(damaged.stdout, third.stdout);

    // Other rules: everything scanned again, with a note.
    write(
        root,
        "extra.toml",
        "[[rules]]\nid = \"team-token\"\ndescription = \"Team token\"\nregex = '''team_[a-z0-9]{32}'''\nkeywords = [\"team_\"]\n",
    );
    let other = run(&["--config", "extra.toml"]);
    assert!(
        stderr(&other).contains("made with other rules"),
        "{}",
        stderr(&other)
    );
    let (from_state, scanned, _) = work(&other);
    assert_eq!(from_state, 0);
    assert_eq!(
        scanned,
        work(&first).1 + 1,
        "everything, notes.txt included"
    );
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn clone_urls_bring_review_refs_and_findings_only_there_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = openai_project_key();
    let work_tree = root.join("dev");
    repo_with(&work_tree, &[("README.md", "app\n".to_string())], "start");
    // A pull request whose branch was deleted: only refs/pull/1/head reaches its commit.
    git(&work_tree, &["checkout", "-q", "-b", "feature"]);
    write(&work_tree, "app.env", key_line(&key));
    commit_all(&work_tree, "add a key");
    git(&work_tree, &["checkout", "-q", "main"]);
    git(root, &["clone", "-q", "--bare", "dev", "origin.git"]);
    let origin = root.join("origin.git");
    git(
        &origin,
        &["update-ref", "refs/pull/1/head", "refs/heads/feature"],
    );
    git(&origin, &["branch", "-D", "feature"]);
    let url = format!("file://{}", origin.display());

    let mut cmd = audit(root);
    cmd.args([&url, "--clone-dir", "clones", "--format", "json"]);
    let out = output(&mut cmd, 1);
    let findings = json_findings(&out.stdout);
    assert_eq!(findings.as_array().unwrap().len(), 1);
    let r = &findings[0]["repositories"][0];
    assert_eq!(r["repository"], url.as_str());
    assert_eq!(r["review_refs_only"], true);
    assert_eq!(
        json_summary(&out.stdout)["per_repository"][0]["review_refs"],
        1
    );

    // Without review refs, a plain clone sees nothing.
    let mut cmd = audit(root);
    cmd.args([
        &url,
        "--clone-dir",
        "clones",
        "--no-review-refs",
        "--format",
        "json",
    ]);
    assert_eq!(run_json(&mut cmd, 0).as_array().unwrap().len(), 0);
    // With them again the key is back; once the host drops the ref, the next fetch drops it.
    let mut cmd = audit(root);
    cmd.args([&url, "--clone-dir", "clones", "--format", "json"]);
    assert_eq!(run_json(&mut cmd, 1).as_array().unwrap().len(), 1);
    git(&origin, &["update-ref", "-d", "refs/pull/1/head"]);
    let mut cmd = audit(root);
    cmd.args([&url, "--clone-dir", "clones", "--format", "json"]);
    assert_eq!(run_json(&mut cmd, 0).as_array().unwrap().len(), 0);

    // A URL that cannot be fetched is an error in the report; the others are audited (the
    // origin is there, and clean now).
    let mut cmd = audit(root);
    cmd.args([
        &url,
        "https://127.0.0.1:9/nothing.git",
        "--clone-dir",
        "clones",
        "--format",
        "json",
    ]);
    let out = output(&mut cmd, 2);
    let s = json_summary(&out.stdout);
    assert!(
        s["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:9/nothing.git: "),
        "{s:#}"
    );
    assert_eq!(s["repositories"], 2);
    assert_eq!(s["per_repository"][0]["errors"], 0);

    // A URL needs a place to clone to.
    let mut cmd = audit(root);
    cmd.arg(&url);
    assert!(text(&output(&mut cmd, 2)).contains("--clone-dir"));
}

#[test]
fn discover_finds_every_repository_under_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = openai_project_key();
    repo_with(&root.join("org/app"), &[(".env", key_line(&key))], "one");
    repo_with(
        &root.join("org/app/vendor/lib"),
        &[("x.txt", "x\n".to_string())],
        "lib",
    );
    git(
        &root.join("org"),
        &["clone", "-q", "--bare", "app", "../srv/app.git"],
    );
    std::fs::create_dir_all(root.join("org/empty-dir")).unwrap();
    let mut cmd = audit(root);
    cmd.args(["--discover", "org", "--discover", "srv", "--format", "json"]);
    let out = output(&mut cmd, 1);
    let s = json_summary(&out.stdout);
    let names: Vec<&str> = s["per_repository"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["org/app", "org/app/vendor/lib", "srv/app.git"]);
    let f = json_findings(&out.stdout);
    assert_eq!(f[0]["repositories"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_input_is_named_and_the_audit_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = openai_project_key();
    repo_with(&root.join("good"), &[(".env", key_line(&key))], "one");
    // A corrupt repository: an object it needs is gone.
    repo_with(
        &root.join("broken"),
        &[("a.txt", "content of a\n".to_string())],
        "one",
    );
    let blob = git(&root.join("broken"), &["rev-parse", "HEAD:a.txt"])
        .trim()
        .to_string();
    std::fs::remove_file(
        root.join("broken/.git/objects")
            .join(&blob[..2])
            .join(&blob[2..]),
    )
    .unwrap();
    std::fs::write(root.join("a-file"), "not a repository\n").unwrap();
    let mut cmd = audit(root);
    cmd.args(["good", "broken", "a-file", "missing", "--format", "json"]);
    let out = output(&mut cmd, 2);
    let s = json_summary(&out.stdout);
    let errors: Vec<&str> = s["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("a-file: "), "{errors:?}");
    assert!(
        errors[1].starts_with("broken: ") && errors[1].contains(&blob),
        "{errors:?}"
    );
    assert!(errors[2].starts_with("missing: "), "{errors:?}");
    assert_eq!(json_findings(&out.stdout).as_array().unwrap().len(), 1);

    for (args, words) in [
        (vec!["--repos", "no-such-list.txt"], "no-such-list.txt"),
        (vec![], "no repositories to audit"),
        (vec!["good", "--verify"], "does not ask providers"),
        (vec!["--discover", "no-such-dir"], "no-such-dir"),
    ] {
        let mut cmd = audit(root);
        cmd.args(&args);
        let e = text(&output(&mut cmd, 2));
        assert!(e.contains(words), "{args:?}: {e}");
    }
}

#[test]
fn one_large_repository_split_by_blob_ranges_merges_to_one_scan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let key = openai_project_key();
    let other = openai_project_key();
    let big = root.join("big");
    repo_with(&big, &[("README.md", "big\n".to_string())], "start");
    // The same key in many blobs over many commits (so that every blob shard holds some),
    // moved between paths, once in a commit message, and a second key in a later commit.
    for i in 0..24 {
        write(
            &big,
            &format!("conf/app{}.env", i % 5),
            format!("# revision {i}\n{}", key_line(&key)),
        );
        write(
            &big,
            &format!("src/mod{i}.rs"),
            format!("pub const N: u32 = {i};\n"),
        );
        let msg = if i == 10 {
            format!("rotate: was {key}")
        } else {
            format!("change {i}")
        };
        commit_all(&big, &msg);
    }
    write(&big, "late.env", key_line(&other));
    commit_all(&big, "late");
    git(&big, &["rm", "-q", "-r", "conf"]);
    commit_all(&big, "remove the keys");
    repo_with(&root.join("small"), &[(".env", key_line(&key))], "small");

    let mut cmd = audit(root);
    cmd.args(["big", "small", "--format", "json", "-o", "whole.json"]);
    output(&mut cmd, 1);
    let whole = std::fs::read(root.join("whole.json")).unwrap();
    let findings = json_findings(&whole);
    assert_eq!(findings.as_array().unwrap().len(), 2);
    assert!(findings[0]["locations"].as_array().unwrap().len() > 20);
    for n in [2u32, 3, 7] {
        let mut parts = Vec::new();
        for i in 0..n {
            let file = format!("blobs-{n}-{i}.json");
            let mut cmd = audit(root);
            cmd.args([
                "big",
                "small",
                "--shard-by",
                "blobs",
                "--format",
                "json",
                "-o",
                &file,
            ])
            .args(["--shard", &format!("{i}/{n}")]);
            let out = cmd.output().unwrap();
            assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
            let part = std::fs::read(root.join(&file)).unwrap();
            assert_eq!(
                json_summary(&part)["repositories"],
                2,
                "every shard walks every repository"
            );
            parts.push(file);
        }
        let mut cmd = keyhound_in(root);
        cmd.arg("merge").args(&parts).args(["--format", "json"]);
        let merged = output(&mut cmd, 1).stdout;
        assert!(
            merged == whole,
            "blob shards of {n} differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&merged),
            String::from_utf8_lossy(&whole)
        );
    }
    // Blob shards and list shards do not mix.
    let mut cmd = audit(root);
    cmd.args([
        "big",
        "small",
        "--shard",
        "1/2",
        "--format",
        "json",
        "-o",
        "list-1-2.json",
    ]);
    let _ = cmd.output().unwrap();
    let mut cmd = keyhound_in(root);
    cmd.args(["merge", "blobs-2-0.json", "list-1-2.json"]);
    assert!(text(&output(&mut cmd, 2)).contains("the other the list of repositories"));
}

#[test]
fn min_confidence_applies_to_every_repository_with_or_without_a_state() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (names, _) = fleet(root);
    let password = format!("Tr0ub4dor-{}-battery", random(ALNUM, 6));
    write(
        &root.join("r8"),
        "conf.env",
        format!("password = \"{password}\"\n"),
    );
    commit_all(&root.join("r8"), "a password");
    let confidences = |extra: &[&str]| -> Vec<String> {
        let mut cmd = audit(root);
        cmd.args(&names).args(["--format", "json"]).args(extra);
        run_json(&mut cmd, 1)
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["confidence"].as_str().unwrap().to_string())
            .collect()
    };
    let all = confidences(&[]);
    assert!(all.iter().any(|c| c == "medium"), "{all:?}");
    for extra in [&[][..], &["--state", "st"][..], &["--state", "st"][..]] {
        let high = confidences(&[&["--min-confidence", "high"], extra].concat());
        assert_eq!(high, ["high", "high", "high"], "{extra:?}");
    }
    // The state made at `high` does not stand for a run at `low`: everything reported again.
    assert_eq!(confidences(&["--state", "st"]), all);
}
