//! End-to-end tests: confidence, fixtures and `--explain` (real leaks first, test material
//! marked, non-credentials not reported).

use crate::util::*;
use base64::Engine;
use predicates::prelude::*;
use serde_json::Value;

fn json(out: &[u8]) -> Value {
    json_findings(out)
}

/// A PEM RSA key block with a DER-shaped random body (not a usable key, but shaped like one).
pub fn rsa_pem() -> String {
    let mut der = vec![0x30u8, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00];
    der.extend((0..900).map(|_| fastrand::u8(..)));
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let kind = ["RSA", "PRIVATE KEY"].join(" ");
    format!(
        "-----BEGIN {kind}-----\n{}\n-----END {kind}-----\n",
        lines.join("\n")
    )
}

fn scan_json(dir: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let out = keyhound()
        .args(["scan", "-f", "json", "."])
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    (out.status.code().unwrap(), json(&out.stdout))
}

#[test]
fn provider_key_in_tests_stays_high() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tests/test_chat.py",
        format!("client = OpenAI(api_key=\"{}\")\n", openai_project_key()),
    );
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(v[0]["confidence"], "high", "{v}");
    assert!(v[0]["fixture"].is_null(), "{v}");
}

#[test]
fn test_pem_key_under_tests_is_a_fixture_and_json_carries_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tests/data/server.key", rsa_pem());
    write(dir.path(), "deploy/prod.key", rsa_pem());
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let arr = v.as_array().unwrap();
    assert_eq!(
        arr.len(),
        2,
        "JSON carries every finding, fixtures included: {v}"
    );
    let by = |p: &str| {
        arr.iter()
            .find(|f| f["locations"][0]["path"] == p)
            .unwrap()
            .clone()
    };
    assert_eq!(by("tests/data/server.key")["fixture"], "place");
    assert_eq!(by("deploy/prod.key")["confidence"], "high");
    assert!(by("deploy/prod.key")["fixture"].is_null());
    // Human output lists the real one and counts the fixture.
    keyhound()
        .args(["scan", "."])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("deploy/prod.key")
                .and(predicate::str::contains("tests/data/server.key").not())
                .and(predicate::str::contains("1 fixture")),
        );
    keyhound()
        .args(["scan", "--show-fixtures", "."])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("tests/data/server.key"));
    // --min-confidence high drops the fixture everywhere.
    let (_, v) = scan_json(dir.path(), &["--min-confidence", "high"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
}

#[test]
fn pem_string_constants_in_c_are_not_keys() {
    let dir = tempfile::tempdir().unwrap();
    let begin = ["-----BEGIN ", "RSA PRIVATE KEY-----"].concat();
    let end = ["-----END ", "RSA PRIVATE KEY-----"].concat();
    let mut c = format!("static const char *pem_begin = \"{begin}\";\n");
    for i in 0..120 {
        c += &format!("static int helper_{i}(int x) {{ return x * {i}; }}\n");
    }
    c += &format!("static const char *pem_end = \"{end}\";\n");
    write(dir.path(), "lib/pem.c", c);
    let (code, v) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn published_example_and_bad_checksum_are_value_fixtures_and_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    let aws = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    write(
        dir.path(),
        "README.md",
        format!("export AWS_ACCESS_KEY_ID={aws}\n"),
    );
    let body = random(ALNUM, 30);
    write(
        dir.path(),
        "ci.env",
        format!("GITHUB_TOKEN={}_{body}{}\n", "ghp", "000000"),
    );
    let (code, v) = scan_json(dir.path(), &[]);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2, "{v}");
    for f in arr {
        assert_eq!(f["fixture"], "value", "{f}");
        assert_eq!(f["confidence"], "low", "{f}");
    }
    assert_eq!(
        code, 0,
        "value fixtures cannot be live keys: they do not fail the scan"
    );
}

#[test]
fn explain_says_why_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "settings.py",
        "OPENAI_API_KEY = \"your-key-here-please-fill\"\napi_key = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    keyhound()
        .args(["scan", "--explain", "."])
        .current_dir(dir.path())
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("explain: settings.py:1")
                .and(predicate::str::contains("placeholder")),
        );
}

#[test]
fn provider_key_under_tests_blocks_a_real_commit_but_a_published_example_does_not() {
    let dir = init_repo();
    write(dir.path(), "README.md", "hello\n");
    commit_all(dir.path(), "init");
    keyhound_in(dir.path())
        .args(["hook", "install"])
        .assert()
        .success();
    // The classic real leak: a live-format OpenAI key in a test file.
    write(
        dir.path(),
        "tests/test_chat.py",
        format!("client = OpenAI(api_key=\"{}\")\n", openai_project_key()),
    );
    git(dir.path(), &["add", "tests/test_chat.py"]);
    let before = git(dir.path(), &["rev-parse", "HEAD"]);
    let out = git_output(dir.path(), &["commit", "-q", "-m", "add test"], &[]);
    assert!(!out.status.success(), "the commit must be blocked");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tests/test_chat.py"), "{stderr}");
    assert_eq!(
        git(dir.path(), &["rev-parse", "HEAD"]),
        before,
        "no commit was created"
    );
    // A published example value (a fixture by value) does not block.
    git(dir.path(), &["reset", "-q"]);
    std::fs::remove_file(dir.path().join("tests/test_chat.py")).unwrap();
    let aws = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    write(
        dir.path(),
        "docs/aws.md",
        format!("export AWS_ACCESS_KEY_ID={aws}\n"),
    );
    git(dir.path(), &["add", "docs/aws.md"]);
    let out = git_output(dir.path(), &["commit", "-q", "-m", "docs"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One policy in every mode and format: what fails a run is what is shown by default. A
/// generic key under `tests/` is a fixture by place: listed only with `--show-fixtures`,
/// carried in JSON, a notice in GitHub annotations, and it fails neither a scan nor a commit.
#[test]
fn fixtures_never_fail_and_what_fails_is_what_is_shown() {
    let dir = init_repo();
    let d = dir.path();
    let generic = format!("API_TOKEN=\"{}{}\"\n", random(ALNUM, 32), "7Qx9");
    write(d, "tests/test_client.py", &generic);
    let aws = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    write(d, "docs/setup.md", format!("aws_access_key_id = {aws}\n"));
    let out = output(keyhound_in(d).args(["scan", "."]), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 fixtures") && !text.contains("tests/test_client.py:"),
        "{text}"
    );
    let out = output(keyhound_in(d).args(["scan", ".", "-f", "github"]), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("::error"), "{text}");
    assert_eq!(text.matches("::notice").count(), 2, "{text}");
    // The hook lets the commit through: there is nothing it would show.
    keyhound_in(d).args(["hook", "install"]).assert().success();
    git(d, &["add", "-A"]);
    let out = git_output(d, &["commit", "-m", "tests"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A real one outside tests: shown, an error annotation, and it fails; the header's word is
    // its confidence.
    write(d, "src/settings.py", &generic);
    let out = output(keyhound_in(d).args(["scan", "."]), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text
        .lines()
        .find(|l| l.starts_with("src/settings.py:"))
        .unwrap();
    assert!(header.contains("[medium confidence]"), "{text}");
    let out = output(keyhound_in(d).args(["scan", ".", "-f", "github"]), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("::error").count(), 1, "{text}");
    // --fail-on chooses the confidence that fails; below it, a warning annotation.
    let out = output(
        keyhound_in(d).args(["scan", ".", "-f", "github", "--fail-on", "high"]),
        0,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("::warning file=src/settings.py"), "{text}");
    keyhound_in(d)
        .args(["scan", ".", "--fail-on", "medium"])
        .assert()
        .code(1);
}

/// A committed MCP or coding-agent config with a literal token in an `env` or `headers` block
/// is a finding even without a provider marker; the placeholders the clients expand are not.
#[test]
fn agent_and_mcp_configs_with_tokens_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let token = format!("{}{}", random(ALNUM, 26), "4k9Z");
    write(
        d,
        ".vscode/mcp.json",
        format!("{{\n  \"servers\": {{\n    \"acme\": {{\n      \"command\": \"npx\",\n      \"env\": {{ \"ACME_TOKEN\": \"{token}\" }}\n    }}\n  }}\n}}\n"),
    );
    let bearer = random(B64URL, 40);
    write(
        d,
        ".mcp.json",
        format!("{{\"mcpServers\": {{\"docs\": {{\"type\": \"http\", \"headers\": {{\"Authorization\": \"Bearer {bearer}\"}}}}, \"gh\": {{\"env\": {{\"GITHUB_TOKEN\": \"${{env:GITHUB_TOKEN}}\"}}}}}}}}\n"),
    );
    write(
        d,
        ".codex/config.toml",
        format!("[mcp_servers.acme.env]\nACME_TOKEN = \"{token}\"\n"),
    );
    write(
        d,
        "notes/mcp-example.json",
        "{\"servers\": {\"x\": {\"env\": {\"ACME_TOKEN\": \"${input:acme}\"}}}}\n",
    );
    let (code, v) = scan_json(d, &["--no-redact"]);
    assert_eq!(code, 1);
    let found: Vec<(String, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["locations"][0]["path"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        found.contains(&(
            "mcp-config-env-secret".into(),
            ".vscode/mcp.json".into(),
            token.clone()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "mcp-config-header-secret".into(),
            ".mcp.json".into(),
            bearer.clone()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "codex-config-env-secret".into(),
            ".codex/config.toml".into(),
            token.clone()
        )),
        "{found:?}"
    );
    assert_eq!(found.len(), 3, "{found:?}");
    for f in v.as_array().unwrap() {
        assert_ne!(f["confidence"], "low", "{f}");
        assert!(f["fixture"].is_null(), "{f}");
    }
}
