//! End-to-end tests: `keyhound git --path GLOB` (and globs after `--`) limit history, range and
//! staged scans to some paths.

use crate::util::*;

fn paths_found(out: &[u8]) -> Vec<String> {
    let mut paths: Vec<String> = json_findings(out)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"][0]["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn history_and_staged_scans_take_a_path_filter() {
    let dir = init_repo();
    write(dir.path(), "src/app.py", key_line(&openai_project_key()));
    write(
        dir.path(),
        "deploy/prod.env",
        key_line(&openai_project_key()),
    );
    commit_all(dir.path(), "two keys");
    let all = output(
        keyhound_in(dir.path()).args(["git", ".", "--no-messages", "--format", "json"]),
        1,
    );
    assert_eq!(paths_found(&all.stdout), ["deploy/prod.env", "src/app.py"]);
    for args in [
        &["--path", "src/**"][..],
        &["--path", "*.py"][..],
        &["--", "src"][..],
    ] {
        let out = output(
            keyhound_in(dir.path())
                .args(["git", ".", "--no-messages", "--format", "json"])
                .args(args),
            1,
        );
        assert_eq!(paths_found(&out.stdout), ["src/app.py"], "{args:?}");
    }
    let none = output(
        keyhound_in(dir.path()).args(["git", ".", "--no-messages", "--path", "docs/**"]),
        0,
    );
    assert!(String::from_utf8_lossy(&none.stdout).contains("0 findings"));

    // Staged: the same filter.
    write(dir.path(), "src/new.py", key_line(&openai_project_key()));
    write(
        dir.path(),
        "deploy/new.env",
        key_line(&openai_project_key()),
    );
    git(dir.path(), &["add", "-A"]);
    let out = output(
        keyhound_in(dir.path()).args(["git", "--staged", "--format", "json", "--path", "deploy/"]),
        1,
    );
    assert_eq!(paths_found(&out.stdout), ["deploy/new.env"]);
}

#[test]
fn a_bad_path_glob_is_an_error_naming_it() {
    let dir = init_repo();
    write(dir.path(), "a.txt", "x\n");
    commit_all(dir.path(), "a");
    let out = output(
        keyhound_in(dir.path()).args(["git", ".", "--path", "src/[a"]),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("path pattern `src/[a`"), "{err}");
}

/// Rules without `keywords`: taken from the literal start of the regex, or (a user's own file
/// only) run on every file with a warning; a repository's own such rule is not loaded.
#[test]
fn rules_without_keywords() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let token = format!(
        "acme_{}",
        random("abcdefghijklmnopqrstuvwxyz0123456789", 24)
    );
    let code = format!("1234-ACME-{}", random(ALNUM, 16));
    write(&repo, "a.txt", format!("x {token}\ncode: {code}\n"));
    let config = "[[rules]]\nid = \"acme-token\"\ndescription = \"Acme token\"\nregex = '''acme_[a-z0-9]{24}'''\n\n[[rules]]\nid = \"acme-code\"\ndescription = \"Acme code\"\nregex = '''[0-9]{4}-ACME-[A-Za-z0-9]{16}'''\n";
    write(dir.path(), "user.toml", config);
    let out = output(
        keyhound()
            .args(["scan", "--format", "json", "--config"])
            .arg(dir.path().join("user.toml"))
            .arg(&repo),
        1,
    );
    let mut rules: Vec<String> = json_findings(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    assert_eq!(rules, ["acme-code", "acme-token"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`acme-token`: no keywords; using the literal start of its regex: `acme_`"),
        "{err}"
    );
    assert!(
        err.contains(
            "`acme-code`: no keywords, and its regex starts with no literal: it runs on every file"
        ),
        "{err}"
    );

    // The same file as the repository's own config: the rule that would run everywhere is
    // not loaded, and the summary says so.
    write(&repo, ".keyhound.toml", config);
    let out = output(keyhound().args(["scan", "--format", "json"]).arg(&repo), 1);
    let found = json_findings(&out.stdout);
    let rules: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["acme-token"]);
    let summary = json_summary(&out.stdout).to_string();
    assert!(
        summary.contains("`acme-code`: not loaded") && summary.contains("\"added\":1"),
        "{summary}"
    );
}
