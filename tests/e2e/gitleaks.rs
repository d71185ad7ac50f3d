//! gitleaks interop: a repository's `.gitleaks.toml` is read when it has no `.keyhound.toml`,
//! `keyhound config import` writes an equivalent `.keyhound.toml`, and `keyhound config check`
//! fails on a config that leaves no rule active.

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::*;

/// Letters and digits without `z`, so that a random key never holds the stopword `zz`.
const NO_Z: &str = "abcdefghijklmnopqrstuvwxy0123456789";

fn acme() -> String {
    format!("acme_{}", random(NO_Z, 24))
}

/// (rule, path) of every finding of `keyhound git` on `dir` with `extra` arguments.
fn found(dir: &Path, extra: &[&str]) -> BTreeSet<(String, String)> {
    let out = keyhound_in(dir)
        .args(["git", ".", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_findings(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["locations"][0]["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const CONFIG: &str = r#"
title = "org secrets config"

[extend]
useDefault = true
disabledRules = ["generic-api-key", "some-gitleaks-only-rule"]

[[rules]]
id = "acme-token"
description = "Acme API token"
regex = '''(?i)acme_token\s*=\s*["']?(acme_[a-z0-9]{24})'''
secretGroup = 1
entropy = 2.0
keywords = ["ACME_TOKEN"]
tags = ["acme"]

  [[rules.allowlists]]
  description = "test fixtures"
  paths = ['''(^|/)fixtures/''']

  [[rules.allowlists]]
  description = "rotated keys marked as such, that also carry the rotation marker"
  condition = "AND"
  regexTarget = "line"
  regexes = ['''#\s*rotated''']
  stopwords = ["zz"]

[[allowlists]]
description = "documentation"
paths = ['''^docs/''']

[[allowlists]]
description = "single-quoted values are placeholders here"
targetRules = ["acme-token"]
regexTarget = "match"
regexes = ['''=\s*'acme_''']

[[allowlists]]
description = "the commit that added the old key, rotated since"
commits = ["COMMIT"]
"#;

#[test]
fn a_gitleaks_config_and_its_import_let_the_same_findings_through() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "old.env", format!("ACME_TOKEN = \"{}\"\n", acme()));
    commit_all(d, "old key");
    let old_commit = git(d, &["rev-parse", "HEAD"]).trim().to_string();

    let zz = format!("acme_zz{}", random(NO_Z, 22));
    write(d, "app.env", format!("acme_token = \"{}\"\n", acme()));
    write(
        d,
        "fixtures/test.env",
        format!("acme_token = \"{}\"\n", acme()),
    );
    write(d, "docs/setup.md", format!("acme_token = \"{}\"\n", acme()));
    write(d, "quoted.env", format!("acme_token = '{}'\n", acme()));
    write(
        d,
        "rotated.env",
        format!("acme_token = \"{zz}\" # rotated\n"),
    );
    write(
        d,
        "rotated_no_zz.env",
        format!("acme_token = \"{}\" # rotated\n", acme()),
    );
    write(
        d,
        "zz_not_rotated.env",
        format!("acme_token = \"acme_zz{}\"\n", random(NO_Z, 22)),
    );
    let generic = format!("api_key = \"{}\"\n", random(NO_Z, 32));
    write(d, "settings.py", &generic);
    commit_all(d, "more");

    // Without a config, keyhound's generic rule finds the api_key line: disabling it is seen.
    let plain = found(d, &[]);
    assert!(
        plain.contains(&("generic-api-key".into(), "settings.py".into())),
        "{plain:?}"
    );

    write(d, ".gitleaks.toml", CONFIG.replace("COMMIT", &old_commit));
    let expected: BTreeSet<(String, String)> =
        ["app.env", "rotated_no_zz.env", "zz_not_rotated.env"]
            .iter()
            .map(|p| ("acme-token".to_string(), p.to_string()))
            .collect();
    let from_gitleaks = found(d, &[]);
    assert_eq!(from_gitleaks, expected);

    let out_dir = tempfile::tempdir().unwrap();
    let imported = out_dir.path().join(".keyhound.toml");
    let out = keyhound_in(d)
        .args(["config", "import", ".gitleaks.toml", "-o"])
        .arg(&imported)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("built-in rules kept"), "{stderr}");
    assert!(stderr.contains("some-gitleaks-only-rule"), "{stderr}");
    let text = std::fs::read_to_string(&imported).unwrap();
    assert!(text.contains("# NOTE:") && text.contains("tags"), "{text}");
    // The import names keyhound's own format, not gitleaks': it is read as a keyhound file.
    assert!(
        text.contains("regex_target = 'line'") && text.contains("condition = 'and'"),
        "{text}"
    );
    let from_import = found(d, &["--config", imported.to_str().unwrap()]);
    assert_eq!(from_import, expected);

    // The import refuses to overwrite, and never writes through a link.
    let again = keyhound_in(d)
        .args(["config", "import", ".gitleaks.toml", "-o"])
        .arg(&imported)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    #[cfg(unix)]
    {
        let link = out_dir.path().join("link.toml");
        std::os::unix::fs::symlink(out_dir.path().join("target.toml"), &link).unwrap();
        let via = keyhound_in(d)
            .args(["config", "import", ".gitleaks.toml", "--force", "-o"])
            .arg(&link)
            .output()
            .unwrap();
        assert_eq!(via.status.code(), Some(2));
        assert!(!out_dir.path().join("target.toml").exists());
    }
}

#[test]
fn a_config_that_leaves_no_rule_active_is_said_in_every_run_and_fails_check() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "app.env", key_line(&openai_project_key()));
    commit_all(d, "key");

    // Allowlist-only, no [extend]: gitleaks would run no rule; keyhound keeps its own, and
    // says so.
    write(
        d,
        ".gitleaks.toml",
        "[allowlist]\npaths = ['''^vendor/''']\n",
    );
    let out = keyhound_in(d).args(["scan", "."]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("keeps its built-in rules") && stderr.contains("no rule at all"),
        "{stderr}"
    );
    let check = keyhound_in(d).args(["config", "check"]).output().unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // useDefault = false and no rule: nothing can be found, and every run says so.
    write(
        d,
        ".gitleaks.toml",
        "[extend]\nuseDefault = false\n[allowlist]\npaths = ['''^vendor/''']\n",
    );
    for args in [&["scan", "."][..], &["git", "."][..]] {
        let out = keyhound_in(d).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no rule is active"), "{args:?}: {stderr}");
    }
    let check = keyhound_in(d).args(["config", "check"]).output().unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("no rule is active"));

    // The same through GITLEAKS_CONFIG, for a file outside the repository.
    let elsewhere = tempfile::tempdir().unwrap();
    let p = elsewhere.path().join("leaks.toml");
    std::fs::write(&p, "[extend]\nuseDefault = false\n").unwrap();
    std::fs::remove_file(d.join(".gitleaks.toml")).unwrap();
    let out = keyhound_in(d)
        .args(["scan", "."])
        .env("GITLEAKS_CONFIG", &p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule is active"));
}

#[test]
fn unknown_keys_and_regexes_rust_cannot_compile_are_named_and_the_rest_loads() {
    let dir = init_repo();
    let d = dir.path();
    let text = "[[rules]]\nid = \"ok-rule\"\ndescription = \"d\"\nregex = '''okr_[a-z0-9]{20}'''\nkeywords = [\"okr_\"]\nentropyy = 3\n\n[[rules]]\nid = \"go-only\"\nregex = '''\\Qgo.only\\E[0-9]{9}'''\nkeywords = [\"go.only\"]\n\n[whitelist]\nregexes = ['x']\n\n[allowlist]\npaths = ['*.lock']\n";
    write(d, ".gitleaks.toml", text);
    write(d, "a.txt", format!("okr_{}\n", random(NO_Z, 20)));
    let check = keyhound_in(d).args(["config", "check"]).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{said}");
    assert!(
        said.contains(".gitleaks.toml:6: unknown key `entropyy` in rule `ok-rule`"),
        "{said}"
    );
    assert!(
        said.contains(".gitleaks.toml:13: unknown key `whitelist`"),
        "{said}"
    );
    assert!(
        said.contains("rule `go-only`") && said.contains("does not compile"),
        "{said}"
    );
    assert!(
        said.contains("looks like a glob") && said.contains("\\.lock$"),
        "{said}"
    );
    // The rule that compiles still finds its key.
    let out = keyhound_in(d)
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let ids: Vec<String> = json_findings(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["ok-rule"]);
}

#[test]
fn gitleaksignore_entries_are_honoured_where_they_map_and_named_where_they_do_not() {
    let dir = init_repo();
    let d = dir.path();
    write(
        d,
        "app.env",
        format!("A=1\n{}", key_line(&openai_project_key())),
    );
    write(d, "b.env", key_line(&openai_project_key()));
    write(d, "c.env", key_line(&openai_project_key()));
    commit_all(d, "keys");
    let head = git(d, &["rev-parse", "HEAD"]).trim().to_string();
    write(
        d,
        ".gitleaksignore",
        format!("# triaged\napp.env:openai-project-key:2\n{head}:b.env:openai-project-key:1\nc.env:openai-api-key:1\nnot an entry\n"),
    );
    let paths = |args: &[&str]| -> (BTreeSet<String>, String) {
        let out = keyhound_in(d)
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let found = json_findings(&out.stdout)
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["locations"][0]["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string()
            })
            .collect();
        (found, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // A directory scan knows no commits: the commit entry does not apply there.
    let (scan, said) = paths(&["scan", "."]);
    assert_eq!(
        scan,
        BTreeSet::from(["b.env".to_string(), "c.env".to_string()]),
        "{said}"
    );
    assert!(
        said.contains("openai-api-key") && said.contains("cannot be mapped"),
        "{said}"
    );
    assert!(
        said.contains(".gitleaksignore:5: not a gitleaks fingerprint"),
        "{said}"
    );
    let (history, _) = paths(&["git", "."]);
    assert_eq!(history, BTreeSet::from(["c.env".to_string()]));
}

#[test]
fn composite_rules_report_only_beside_their_required_rule() {
    let dir = init_repo();
    let d = dir.path();
    let config = "[extend]\nuseDefault = false\n\n[[rules]]\nid = \"acme-key-id\"\nregex = '''ACMEID_[A-Y0-9]{12}'''\nkeywords = [\"acmeid_\"]\nskipReport = true\n\n[[rules]]\nid = \"acme-secret\"\nregex = '''acmesecret\\s*=\\s*([a-y0-9]{30})'''\nkeywords = [\"acmesecret\"]\n\n  [[rules.required]]\n  id = \"acme-key-id\"\n  withinLines = 2\n";
    write(d, ".gitleaks.toml", config);
    let id = || format!("ACMEID_{}", random("ABCDEFGHJKLMNPQRSTUVWXY23456789", 12));
    let secret = || format!("acmesecret = {}", random(NO_Z, 30));
    write(d, "both.env", format!("{}\n{}\n", id(), secret()));
    write(d, "far.env", format!("{}\n\n\n\n\n{}\n", id(), secret()));
    write(d, "alone.env", format!("{}\n", secret()));
    commit_all(d, "keys");
    let expected = BTreeSet::from([("acme-secret".to_string(), "both.env".to_string())]);
    assert_eq!(found(d, &[]), expected);

    let out_dir = tempfile::tempdir().unwrap();
    let imported = out_dir.path().join("k.toml");
    keyhound_in(d)
        .args(["config", "import", ".gitleaks.toml", "-o"])
        .arg(&imported)
        .assert()
        .success();
    let text = std::fs::read_to_string(&imported).unwrap();
    assert!(
        text.contains("[[rules.required]]") && text.contains("report = false"),
        "{text}"
    );
    assert_eq!(
        found(d, &["--config", imported.to_str().unwrap()]),
        expected
    );
}

#[test]
fn a_repository_gitleaks_file_extends_only_files_inside_the_repository() {
    let outside = tempfile::tempdir().unwrap();
    let dir = init_repo();
    let d = dir.path();
    let rule = |id: &str| {
        format!(
            "[[rules]]\nid = \"{id}\"\nregex = '''{id}_[a-y0-9]{{20}}'''\nkeywords = [\"{id}_\"]\n"
        )
    };
    std::fs::write(outside.path().join("base.toml"), rule("outer")).unwrap();
    write(d, "conf/base.toml", rule("inner"));
    write(
        d,
        "a.txt",
        format!("outer_{} inner_{}\n", random(NO_Z, 20), random(NO_Z, 20)),
    );
    let escape = format!("{}/base.toml", outside.path().display());
    for (path, loads, refused) in [
        ("conf/base.toml", "inner", false),
        (escape.as_str(), "", true),
        ("../x/base.toml", "", true),
    ] {
        write(d, ".gitleaks.toml", format!("[extend]\npath = {path:?}\n"));
        let out = keyhound_in(d)
            .args(["scan", ".", "--format", "json"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        let ids: Vec<String> = json_findings(&out.stdout)
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .filter(|id| id == "inner" || id == "outer")
            .collect();
        if loads.is_empty() {
            assert!(ids.is_empty(), "{path}: {ids:?}");
        } else {
            assert_eq!(ids, [loads], "{path}: {said}");
        }
        assert_eq!(
            said.contains("may extend only files inside it"),
            refused,
            "{path}: {said}"
        );
    }
    // The user's own file (--config) may extend what it likes.
    let mine = outside.path().join("mine.gitleaks.toml");
    std::fs::write(&mine, "[extend]\npath = \"base.toml\"\n").unwrap();
    let out = keyhound_in(d)
        .args(["scan", "a.txt", "--format", "json", "--config"])
        .arg(&mine)
        .output()
        .unwrap();
    let ids: Vec<String> = json_findings(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"outer".to_string()), "{ids:?}");
}
