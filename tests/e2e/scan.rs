//! End-to-end tests: `keyhound scan` on real files.

use crate::util::*;
use predicates::prelude::*;
use serde_json::Value;

fn json(out: &[u8]) -> Value {
    json_findings(out)
}

/// The string field `name` of every finding in JSON output `v`, in order.
fn strings(v: &Value, name: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| f[name].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn finds_key_in_dotenv_with_position_and_redacts() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    write(
        dir.path(),
        "app/.env",
        format!("A=1\nOPENAI_API_KEY={key}\n"),
    );
    let out = output(keyhound().args(["scan", "."]).current_dir(dir.path()), 1).stdout;
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("app/.env:2:16: openai-project-key"), "{text}");
    assert!(!text.contains(&key[10..]), "secret leaked: {text}");
    assert!(
        text.contains("platform.openai.com"),
        "remediation missing: {text}"
    );
    keyhound()
        .args(["scan", ".", "--no-redact"])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(key.as_str()));
}

#[test]
fn clean_tree_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/main.rs",
        "fn main() { println!(\"hi\"); }\n",
    );
    write(dir.path(), "empty.txt", "");
    keyhound().args(["scan"]).arg(dir.path()).assert().code(0);
}

#[test]
fn gitignore_respected_unless_no_ignore_and_git_dir_skipped() {
    let dir = init_repo();
    let key = openai_project_key();
    write(dir.path(), ".gitignore", "secret.txt\n");
    write(dir.path(), "secret.txt", format!("k={key}\n"));
    write(dir.path(), ".git/keyfile", format!("k={key}\n"));
    keyhound().args(["scan"]).arg(dir.path()).assert().code(0);
    let v = run_json(
        keyhound()
            .args(["scan", "--no-ignore", "--format", "json"])
            .arg(dir.path()),
        1,
    );
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert!(v[0]["locations"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("secret.txt"));
}

#[test]
fn stdin_is_scanned() {
    let key = openai_legacy_key();
    keyhound()
        .args(["scan", "-", "--format", "jsonl"])
        .write_stdin(format!("curl -H 'x: {key}'\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\":\"-\""));
}

#[test]
fn json_formats_carry_fields() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    write(
        dir.path(),
        "a.py",
        format!("client = OpenAI(api_key=\"{key}\")\n"),
    );
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "a.py"])
            .current_dir(dir.path()),
        1,
    );
    let f = &v[0];
    for field in [
        "rule_id",
        "description",
        "severity",
        "secret",
        "fingerprint",
        "entropy",
        "remediation",
    ] {
        assert!(!f[field].is_null(), "missing {field}: {f}");
    }
    assert_eq!(f["locations"][0]["line"], 1);
    // `client = OpenAI(api_key="` is 25 characters: the key starts in column 26.
    assert_eq!(f["locations"][0]["column"], 26);
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    let shown = f["secret"].as_str().unwrap();
    assert_eq!(shown.chars().count(), 13, "{shown}");
    assert!(
        shown.contains('…') && key.ends_with(&shown[shown.len() - 4..]),
        "{shown}"
    );
}

#[test]
fn fingerprint_is_position_independent() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let fp = |content: String| {
        write(dir.path(), "x.txt", content);
        let out = keyhound()
            .args(["scan", "-f", "json", "x.txt"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        json(&out.stdout)[0]["fingerprint"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        fp(format!("k={key}\n")),
        fp(format!("\n\n\n    other = {key}\n"))
    );
}

#[test]
fn sarif_validates_against_schema() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "dir with space/k.txt",
        format!("key: {}\n", openai_project_key()),
    );
    write(
        dir.path(),
        "b.txt",
        format!("AWS_ACCESS_KEY_ID={}\n", aws_key_id()),
    );
    let out = output(
        keyhound()
            .args(["scan", "-f", "sarif", "."])
            .current_dir(dir.path()),
        1,
    )
    .stdout;
    let doc = serde_json::from_slice::<Value>(&out).expect("SARIF is JSON");
    validate_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["tool"]["driver"]["name"], "keyhound");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "dir%20with%20space/k.txt"
    ));
    // GitHub code scanning sorts alerts by the rules' security-severity; no placeholder URI.
    let driver = &doc["runs"][0]["tool"]["driver"];
    assert!(driver["informationUri"].is_null(), "{driver}");
    for rule in driver["rules"].as_array().unwrap() {
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score), "{rule}");
    }
}

#[test]
fn oversized_file_is_incomplete_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut big = vec![b'a'; 2 << 20];
    big.extend_from_slice(format!("\nk={key}\n").as_bytes());
    write(dir.path(), "big.txt", &big);
    let size = big.len();
    let run = |args: &[&str]| {
        keyhound()
            .args(["scan", "--max-file-size", "1M", "."])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let said = "big.txt: larger than --max-file-size (2.0 MiB > 1 MiB); not scanned";
    // Human: the summary lists it, stderr says it, the run fails with its own code.
    let out = run(&[]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("incomplete: 1 item was not read whole") && stdout.contains(said),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("keyhound: incomplete: {said}")),
        "{stderr}"
    );
    // --quiet drops the summary, never the warning.
    let out = run(&["--quiet"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains(said));
    // JSON and JSON lines: the summary's typed list.
    let want = serde_json::json!([{
        "what": "big.txt",
        "reason": {"kind": "too_large", "size": size, "limit": 1 << 20}
    }]);
    let out = run(&["-f", "json"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_summary(&out.stdout)["incomplete"], want);
    let out = run(&["-f", "jsonl"]);
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["summary"]["incomplete"], want);
    // SARIF: a notification of the invocation, and still valid.
    let out = run(&["-f", "sarif"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    validate_sarif(&doc);
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "warning");
    assert!(
        note["message"]["text"].as_str().unwrap().contains(said),
        "{note}"
    );
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "big.txt"
    );
    // GitHub: a warning annotation on the file.
    let out = run(&["-f", "github"]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("::warning file=big.txt,title=keyhound%3A incomplete scan::")
            && text.contains("larger than --max-file-size"),
        "{text}"
    );
    // A team may choose to let it pass, loudly: by flag or in the config.
    let out = run(&["--on-incomplete", "warn"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(said) && stderr.contains("warning: the scan is incomplete"),
        "{stderr}"
    );
    write(
        dir.path(),
        ".keyhound.toml",
        "[scan]\non_incomplete = \"warn\"\n",
    );
    assert_eq!(run(&[]).status.code(), Some(0));
    assert_eq!(run(&["--on-incomplete", "fail"]).status.code(), Some(3));
    // Under the limit, the key is found.
    keyhound()
        .args(["scan", "."])
        .current_dir(dir.path())
        .assert()
        .code(1);
}

#[test]
fn hundred_megabyte_file_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let line = b"lorem ipsum dolor sit amet, consectetur adipiscing elit token = 42\n";
    let mut big = Vec::with_capacity(100 << 20);
    while big.len() < (100 << 20) - 400 {
        big.extend_from_slice(line);
    }
    big.extend_from_slice(format!("k={key}\n").as_bytes());
    write(dir.path(), "dump.sql", &big);
    let lines = big.iter().filter(|&&b| b == b'\n').count();
    keyhound()
        .args(["scan", "--format", "jsonl", "dump.sql"])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("\"line\":{lines}")));
}

#[test]
fn binary_file_scanned_with_specific_rules_only() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut bin = vec![0u8, 1, 2, 3, 0, 0, 255];
    bin.extend_from_slice(key.as_bytes());
    bin.extend_from_slice(b"\0\0password = \"Q9vX2mLp7RtZ4wKe8NcY\"\0");
    write(dir.path(), "app.bin", &bin);
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "app.bin"])
            .current_dir(dir.path()),
        1,
    );
    let rules = strings(&v, "rule_id");
    assert_eq!(rules, vec!["openai-project-key"]);
}

#[test]
fn crlf_utf16_and_minified() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    write(dir.path(), "crlf.txt", format!("a\r\nb\r\nk={key}\r\n"));
    let utf16: Vec<u8> = [0xFFu8, 0xFE]
        .into_iter()
        .chain(
            format!("x\nkey = {key}\n")
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    write(dir.path(), "utf16.txt", utf16);
    let filler = "var a=1;".repeat(5000);
    write(
        dir.path(),
        "app.min.js",
        format!("{filler}var k=\"{key}\";{filler}"),
    );
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "--no-redact", "."])
            .current_dir(dir.path()),
        1,
    );
    let by_path = |p: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|f| f["locations"][0]["path"] == p)
            .unwrap_or_else(|| panic!("no finding in {p}: {v}"))
            .clone()
    };
    let crlf = by_path("crlf.txt");
    assert_eq!(
        (
            crlf["locations"][0]["line"].as_u64(),
            crlf["locations"][0]["column"].as_u64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(
        crlf["secret"],
        key.as_str(),
        "CR must not be part of the secret"
    );
    let u = by_path("utf16.txt");
    assert_eq!(
        (
            u["locations"][0]["line"].as_u64(),
            u["locations"][0]["column"].as_u64()
        ),
        (Some(2), Some(7))
    );
    let m = by_path("app.min.js");
    assert_eq!(m["locations"][0]["line"], 1);
    assert_eq!(
        m["locations"][0]["column"].as_u64(),
        Some((filler.len() + "var k=\"".len() + 1) as u64)
    );
}

#[test]
fn invalid_utf8_content_and_path() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut content = b"\xff\xfe\xfd not utf8 \xc3\x28\n".to_vec();
    content.extend_from_slice(format!("k={key}\n").as_bytes());
    let name = std::ffi::OsStr::from_bytes(b"bad-\xffname.txt");
    std::fs::write(dir.path().join(name), &content).unwrap();
    keyhound()
        .args(["scan", "-f", "json", "."])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("bad-\u{FFFD}name.txt"));
}

#[test]
fn inline_allow_markers() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.txt",
        format!(
            "a={} # keyhound:allow\nb={} # gitleaks:allow\nc={} # pragma: allowlist secret\n",
            openai_project_key(),
            openai_project_key(),
            openai_project_key()
        ),
    );
    keyhound()
        .args(["scan", "."])
        .current_dir(dir.path())
        .assert()
        .code(0);
}

#[test]
fn keyhoundignore_fingerprints_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    write(dir.path(), "keep/a.txt", format!("a={key}\n"));
    write(
        dir.path(),
        "vendor/b.txt",
        format!("b={}\n", openai_project_key()),
    );
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "."])
            .current_dir(dir.path()),
        1,
    );
    assert_eq!(v.as_array().unwrap().len(), 2);
    let fp = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["locations"][0]["path"] == "keep/a.txt")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    write(
        dir.path(),
        ".keyhoundignore",
        format!("# triaged\n{fp}\nvendor/\n"),
    );
    keyhound()
        .args(["scan", "."])
        .current_dir(dir.path())
        .assert()
        .code(0);
}

#[test]
fn config_adds_rule_and_allowlist() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".keyhound.toml",
        r#"
[allowlist]
paths = ['''(^|/)fixtures/''']

[[rules]]
id = "acme-token"
description = "ACME internal token"
regex = '''acme_[a-z0-9]{24}'''
keywords = ["acme_"]
examples = ["t = acme_{lowernum:24}"]
"#,
    );
    write(
        dir.path(),
        "a.txt",
        format!(
            "t = acme_{}\n",
            random("abcdefghijklmnopqrstuvwxyz0123456789", 24)
        ),
    );
    write(
        dir.path(),
        "fixtures/b.txt",
        format!("k={}\n", openai_project_key()),
    );
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "."])
            .current_dir(dir.path()),
        1,
    );
    let rules = strings(&v, "rule_id");
    assert_eq!(rules, vec!["acme-token"]);
}

#[test]
fn config_can_replace_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "only.toml",
        "[extend]\ndefault = false\n[[rules]]\nid='x'\ndescription='d'\nregex='zzz_[0-9]{8}'\nkeywords=['zzz_']\n",
    );
    write(dir.path(), "a.txt", format!("k={}\n", openai_project_key()));
    keyhound()
        .args(["scan", "--config", "only.toml", "a.txt"])
        .current_dir(dir.path())
        .assert()
        .code(0);
}

#[test]
fn invalid_config_names_file_rule_and_field() {
    let dir = tempfile::tempdir().unwrap();
    // Each config, and what the error must name: the file, the rule and the field.
    let cases = [
        (
            "[[rules]]\nid = \"broken-rule\"\ndescription = \"d\"\nregex = \"(oops\"\nkeywords = [\"oops\"]\n",
            &[".keyhound.toml", "broken-rule", "`regex`"][..],
        ),
        (
            "[[rules]]\nid = \"r\"\nregex = \"x\"\nkeywords = [\"x\"]\n",
            &["`r`", "description"][..],
        ),
        (
            "[[rules]]\nid = \"zero\"\ndescription = \"d\"\nregex = \"x\"\nkeywords = [\"x\"]\nmax_length = 0\n",
            &["zero", "max_length"][..],
        ),
    ];
    for (config, named) in cases {
        write(dir.path(), ".keyhound.toml", config);
        let out = output(keyhound().args(["scan", "."]).current_dir(dir.path()), 2)
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        for name in named {
            assert!(err.contains(name), "{name} not in: {err}");
        }
    }
}

#[test]
fn max_length_drops_longer_secrets() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        ".keyhound.toml",
        "[extend]\ndefault = false\n\n[[rules]]\nid = \"tagged\"\ndescription = \"d\"\nregex = 'TAG-[a-z0-9]+'\nkeywords = [\"TAG-\"]\nmax_length = 12\n",
    );
    write(
        dir.path(),
        "a.txt",
        "one TAG-q8z3k1\ntwo TAG-q8z3k1m4x7p2\n",
    );
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", "--no-redact", "a.txt"])
            .current_dir(dir.path()),
        1,
    );
    let secrets = strings(&v, "secret");
    assert_eq!(secrets, ["TAG-q8z3k1"]);
    keyhound()
        .args(["scan", "--explain", "a.txt"])
        .current_dir(dir.path())
        .assert()
        .stdout(predicate::str::contains(
            "longer than the rule's max_length",
        ));
}

#[test]
fn missing_root_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    keyhound()
        .args(["scan", "does-not-exist"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does-not-exist"));
}

#[test]
fn symlink_loop_reported_not_followed_forever() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "d/a.txt",
        format!("k={}\n", openai_project_key()),
    );
    std::os::unix::fs::symlink("..", dir.path().join("d/loop")).unwrap();
    // Not following links: the loop is not entered, the key is found.
    keyhound()
        .args(["scan", "."])
        .current_dir(dir.path())
        .assert()
        .code(1);
    // Following links: the loop is detected and reported as an error; the scan still finishes.
    keyhound()
        .args(["scan", "-L", "."])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::contains("d/a.txt"))
        .stderr(predicate::str::contains("loop"));
}

#[test]
fn unreadable_file_reported_and_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ok.txt",
        format!("k={}\n", openai_project_key()),
    );
    write(dir.path(), "locked.txt", "nothing\n");
    std::fs::set_permissions(
        dir.path().join("locked.txt"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    // As root, permissions do not stop reads: run the scan as an unprivileged user.
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut cmd = if is_root {
        let mut c = assert_cmd::Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(&bin);
        c
    } else {
        assert_cmd::Command::new(&bin)
    };
    cmd.args(["scan", "."])
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stdout(predicate::str::contains("ok.txt:1:3"))
        .stderr(
            predicate::str::contains("locked.txt")
                .and(predicate::str::contains("ermission denied")),
        );
}

#[test]
fn parallel_equals_single_thread() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..60 {
        let body = if i % 3 == 0 {
            format!(
                "line\nk{i}={}\nmore {}\n",
                openai_project_key(),
                openai_legacy_key()
            )
        } else {
            "nothing to see\n".repeat(i)
        };
        write(dir.path(), &format!("d{}/f{i}.txt", i % 7), body);
    }
    let run = |threads: &str| {
        keyhound()
            .args(["scan", "-f", "json", "--no-redact", "-j", threads, "."])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert_eq!(json(&one).as_array().unwrap().len(), 40);
    assert_eq!(one, run("4"));
}

/// Checks `doc` against the SARIF 2.1.0 schema when it is installed.
fn validate_sarif(doc: &Value) {
    match sarif_schema() {
        Some(schema) => {
            let validator = jsonschema::validator_for(&schema).expect("schema compiles");
            let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "SARIF invalid: {errors:?}");
        }
        None => eprintln!(
            "note: SARIF schema not installed (.ci/run fetches it); checked structure only"
        ),
    }
}

/// The official SARIF 2.1.0 schema, which `.ci/run` fetches from the npm registry (it is not
/// ours to commit). Under CI it must be there.
fn sarif_schema() -> Option<Value> {
    let path = std::env::var_os("KEYHOUND_SARIF_SCHEMA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/sarif-schema/sarif-2.1.0.json")
        });
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("schema is JSON")),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("SARIF schema missing at {}", path.display())
        }
        Err(_) => None,
    }
}

/// What users of gitleaks and ripgrep look for: `--color`, `--exit-code N`, a one-line format,
/// and a config that disables a rule keyhound does not have (a warning, the scan goes on).
#[test]
fn color_exit_code_compact_and_unknown_disable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = openai_project_key();
    write(d, "a.env", key_line(&key));
    let out = output(
        keyhound()
            .args(["scan", ".", "--color", "always"])
            .current_dir(d),
        1,
    );
    assert!(out.stdout.contains(&0x1b), "no colour with --color always");
    let out = output(
        keyhound()
            .args(["scan", ".", "--color", "never"])
            .env_remove("NO_COLOR")
            .current_dir(d),
        1,
    );
    assert!(!out.stdout.contains(&0x1b));
    keyhound()
        .args(["scan", ".", "--exit-code", "42"])
        .current_dir(d)
        .assert()
        .code(42);
    let out = output(
        keyhound()
            .args(["scan", ".", "-f", "compact"])
            .current_dir(d),
        1,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let tail = &key[key.len() - 4..];
    assert_eq!(
        text,
        format!("a.env:1:16: openai-project-key sk-proj-…{tail} (high)\n")
    );
    write(
        d,
        ".keyhound.toml",
        "[extend]\ndisable = ['no-such-rule']\n",
    );
    let out = output(keyhound().args(["scan", "."]).current_dir(d), 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no rule `no-such-rule`"), "{err}");
    keyhound()
        .args(["scan", ".", "--exit-code", "300"])
        .current_dir(d)
        .assert()
        .code(2);
}
