//! End-to-end tests: `--verify`, `--only-verified`, `--fail-on active` and `keyhound verify`,
//! against a fake provider: a real HTTP server on 127.0.0.1 that answers canned statuses and
//! records what it was sent. `KEYHOUND_TEST_PROVIDER_URL` points every check at it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

/// What the fake provider does with a request.
#[derive(Clone)]
pub(crate) enum Reply {
    Status(u16),
    /// 302 to this URL.
    Redirect(String),
    /// Read the request, then say nothing for a long time.
    Hang,
}

/// One request as the fake provider saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Test scaffolding, not an HTTP implementation: enough of HTTP/1.1 to answer one request a
/// connection.
pub(crate) struct FakeProvider {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeProvider {
    pub fn start(reply: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        {
            let (connections, seen) = (connections.clone(), seen.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (seen, reply) = (seen.clone(), reply.clone());
                    std::thread::spawn(move || answer(stream, &*reply, &seen));
                }
            });
        }
        FakeProvider {
            addr,
            connections,
            seen,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far, after giving a late one a moment to arrive.
    fn connections(&self) -> usize {
        std::thread::sleep(Duration::from_millis(200));
        self.connections.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

fn answer(stream: TcpStream, reply: &dyn Fn(&Seen) -> Reply, seen: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let request = Seen {
        method,
        target,
        headers,
    };
    seen.lock().expect("not poisoned").push(request.clone());
    let response = match reply(&request) {
        Reply::Status(code) => {
            format!("HTTP/1.1 {code} Canned\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")
        }
        Reply::Redirect(to) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
    };
    let mut stream = &stream;
    let _ = stream.write_all(response.as_bytes());
}

/// Answers by the key in the `Authorization: Bearer` header; 404 for keys it does not know.
pub(crate) fn by_key(replies: &[(&str, Reply)]) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    let map: HashMap<String, Reply> = replies
        .iter()
        .map(|(k, r)| (format!("Bearer {k}"), r.clone()))
        .collect();
    move |s: &Seen| {
        s.header("authorization")
            .and_then(|a| map.get(a).cloned())
            .unwrap_or(Reply::Status(404))
    }
}

/// A rule file with one rule for OpenAI project keys and a verify block like the real one.
/// Built at run time: the marker is assembled, so no key shape sits in the source.
fn rules_file(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"[extend]
default = false

[[rules]]
id = "test-openai-key"
description = "OpenAI project key (test rule)"
regex = '''(sk-proj-[A-Za-z0-9_-]{{74}}{m}[A-Za-z0-9_-]{{74}})'''
keywords = ["{m}"]

[rules.verify]
url = "https://api.openai.com/v1/models"
headers = {{ Authorization = "Bearer {{secret}}" }}
"#,
        m = marker()
    );
    let path = dir.join("rules.toml");
    std::fs::write(&path, text).expect("write rules");
    path
}

/// A temp dir with the rule file and `src/keys.env` holding `keys`, one a line.
fn project(keys: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(dir.path());
    let body: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("KEY_{i}={k}\n"))
        .collect();
    write(dir.path(), "src/keys.env", body);
    (dir, rules)
}

fn scan(dir: &Path, rules: &Path, provider: &FakeProvider, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = keyhound();
    cmd.args(["scan", "src", "--format", "json", "--config"])
        .arg(rules)
        .args(extra)
        .current_dir(dir)
        .env("KEYHOUND_TEST_PROVIDER_URL", provider.url());
    cmd
}

fn json(out: &[u8]) -> Vec<Value> {
    let v = json_findings(out);
    v.as_array().expect("array").clone()
}

/// The items of `keyhound verify --format json` (an array: one per key read).
fn verify_items(out: &[u8]) -> Vec<Value> {
    let v: Value = serde_json::from_slice(out).expect("JSON output");
    v.as_array().expect("array").clone()
}

/// The finding (there is one per key here) whose secret is `key`.
fn finding_of<'a>(findings: &'a [Value], key: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["secret"] == key)
        .unwrap_or_else(|| panic!("no finding for a key in {findings:?}"))
}

#[test]
fn statuses_mean_active_inactive_unknown() {
    let keys: Vec<String> = (0..4).map(|_| openai_project_key()).collect();
    let provider = FakeProvider::start(by_key(&[
        (&keys[0], Reply::Status(200)),
        (&keys[1], Reply::Status(401)),
        (&keys[2], Reply::Status(429)),
        (&keys[3], Reply::Status(500)),
    ]));
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let (dir, rules) = project(&refs);
    let out = output(
        &mut scan(dir.path(), &rules, &provider, &["--verify", "--no-redact"]),
        1,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("KEYHOUND_TEST_PROVIDER_URL is set"),
        "the testing hook is announced: {stderr}"
    );
    let findings = json(&out.stdout);
    let expect = [
        ("active", 200),
        ("inactive", 401),
        ("active", 429),
        ("unknown", 500),
    ];
    for (key, (status, code)) in keys.iter().zip(expect) {
        let f = finding_of(&findings, key);
        assert_eq!(f["verified"], status, "{f}");
        assert_eq!(f["verified_status"], code, "{f}");
    }
    // The key went in the header the rule names, to the path it names, and nowhere else.
    let seen = provider.seen();
    assert_eq!(seen.len(), 4, "{seen:?}");
    for s in &seen {
        assert_eq!(
            (s.method.as_str(), s.target.as_str()),
            ("GET", "/v1/models")
        );
        let auth = s.header("authorization").expect("Authorization header");
        assert!(keys.iter().any(|k| auth == format!("Bearer {k}")), "{auth}");
        assert!(s
            .header("user-agent")
            .unwrap_or("")
            .starts_with("keyhound/"));
    }
}

#[test]
fn no_connection_without_verify() {
    let key = openai_project_key();
    let provider = FakeProvider::start(|_| Reply::Status(200));
    let (dir, rules) = project(&[&key]);
    let out = output(&mut scan(dir.path(), &rules, &provider, &[]), 1).stdout;
    let findings = json(&out);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0].get("verified").is_none(),
        "no verification field without --verify: {}",
        findings[0]
    );
    assert_eq!(
        provider.connections(),
        0,
        "keyhound connected without --verify"
    );
}

#[test]
fn redirect_to_another_host_is_not_followed() {
    let key = openai_project_key();
    let elsewhere = FakeProvider::start(|_| Reply::Status(200));
    let to = format!("{}/steal", elsewhere.url());
    let provider = FakeProvider::start(move |_| Reply::Redirect(to.clone()));
    let (dir, rules) = project(&[&key]);
    let out = output(
        &mut scan(dir.path(), &rules, &provider, &["--verify", "--no-redact"]),
        1,
    )
    .stdout;
    let findings = json(&out);
    let f = finding_of(&findings, &key);
    assert_eq!(f["verified"], "unknown", "{f}");
    assert_eq!(f["verified_status"], 302, "{f}");
    assert_eq!(provider.seen().len(), 1);
    assert_eq!(
        elsewhere.connections(),
        0,
        "the key was sent to another host"
    );
}

#[test]
fn timeout_is_unknown_and_a_dead_provider_does_not_hang_the_scan() {
    let keys: Vec<String> = (0..12).map(|_| openai_project_key()).collect();
    let provider = FakeProvider::start(|_| Reply::Hang);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let (dir, rules) = project(&refs);
    let start = Instant::now();
    let out = scan(
        dir.path(),
        &rules,
        &provider,
        &["--verify", "--verify-timeout", "0.5"],
    )
    .timeout(Duration::from_secs(60))
    .assert()
    .code(1)
    .get_output()
    .stdout
    .clone();
    let elapsed = start.elapsed();
    let findings = json(&out);
    assert_eq!(findings.len(), 12);
    for f in &findings {
        assert_eq!(f["verified"], "unknown", "{f}");
        assert!(f.get("verified_status").is_none(), "{f}");
    }
    assert!(
        findings.iter().any(|f| f["verified_detail"] == "timed out"),
        "{findings:?}"
    );
    // Twelve keys at 0.5 s each would be 6 s one by one; with bounded concurrency and the
    // host given up after a few failures it is about one timeout.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(
        provider.seen().len() < 12,
        "a dead host was asked for every key"
    );
}

#[test]
fn each_secret_is_checked_once_per_run() {
    let key = openai_project_key();
    let provider = FakeProvider::start(|_| Reply::Status(200));
    let (dir, rules) = project(&[&key]);
    write(
        dir.path(),
        "src/again/settings.py",
        format!("KEY = \"{key}\"\n"),
    );
    let out = output(&mut scan(dir.path(), &rules, &provider, &["--verify"]), 1).stdout;
    let findings = json(&out);
    let locations: usize = findings
        .iter()
        .map(|f| f["locations"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(locations, 2, "{findings:?}");
    assert!(findings.iter().all(|f| f["verified"] == "active"));
    assert_eq!(provider.seen().len(), 1, "the provider was asked twice");
}

#[test]
fn only_verified_keeps_active_keys() {
    let (live, dead) = (openai_project_key(), openai_project_key());
    let provider = FakeProvider::start(by_key(&[
        (&live, Reply::Status(200)),
        (&dead, Reply::Status(401)),
    ]));
    let (dir, rules) = project(&[&dead, &live]);
    let out = output(
        &mut scan(
            dir.path(),
            &rules,
            &provider,
            &["--only-verified", "--no-redact"],
        ),
        1,
    )
    .stdout;
    let findings = json(&out);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["secret"], live.as_str());
    assert_eq!(findings[0]["verified"], "active");
}

#[test]
fn fail_on_active_fails_only_for_active_keys() {
    let (live, dead) = (openai_project_key(), openai_project_key());
    let provider = FakeProvider::start(by_key(&[
        (&live, Reply::Status(200)),
        (&dead, Reply::Status(401)),
    ]));
    let (dir, rules) = project(&[&dead]);
    // A revoked key is still reported, but does not fail the run.
    let out = output(
        &mut scan(dir.path(), &rules, &provider, &["--fail-on", "active"]),
        0,
    )
    .stdout;
    assert_eq!(json(&out)[0]["verified"], "inactive");
    // The default still fails on any finding.
    scan(dir.path(), &rules, &provider, &["--verify"])
        .assert()
        .code(1);
    let (dir, rules) = project(&[&dead, &live]);
    scan(dir.path(), &rules, &provider, &["--fail-on", "active"])
        .assert()
        .code(1);
}

#[test]
fn human_output_lists_active_keys_first_and_marks_them() {
    let (live, dead) = (openai_project_key(), openai_project_key());
    let provider = FakeProvider::start(by_key(&[
        (&live, Reply::Status(200)),
        (&dead, Reply::Status(401)),
    ]));
    let (dir, rules) = project(&[&dead, &live]);
    let out = output(
        keyhound()
            .args(["scan", "src", "--verify", "--config"])
            .arg(&rules)
            .current_dir(dir.path())
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url()),
        1,
    )
    .stdout;
    let text = String::from_utf8(out).expect("UTF-8");
    let first = text.lines().next().unwrap_or("");
    assert!(
        first.starts_with("ACTIVE src/keys.env:2:"),
        "active key first and marked: {text}"
    );
    assert!(text.contains("verified:    active (HTTP 200)"), "{text}");
    assert!(text.contains("verified:    inactive (HTTP 401)"), "{text}");
    assert!(
        text.contains("1 active, 1 inactive, 0 unknown"),
        "summary: {text}"
    );
}

#[test]
fn verify_command_reads_keys_from_stdin() {
    let (live, dead) = (openai_project_key(), openai_project_key());
    let provider = FakeProvider::start(by_key(&[
        (&live, Reply::Status(200)),
        (&dead, Reply::Status(401)),
    ]));
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = rules_file(dir.path());
    let input = format!("{live}\n\n# rotated yesterday\n{dead}\nnot-a-key\n");
    let out = output(
        keyhound()
            .args(["verify", "--config"])
            .arg(&rules)
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url())
            .write_stdin(input.clone()),
        1,
    )
    .stdout;
    let text = String::from_utf8(out).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("line 1: active   test-openai-key sk-proj-"),
        "{text}"
    );
    assert!(lines[0].ends_with("(HTTP 200)"), "{text}");
    assert!(
        lines[1].starts_with("line 4: inactive test-openai-key"),
        "{text}"
    );
    assert!(lines[2].starts_with("line 5: unknown  -"), "{text}");
    assert!(!text.contains(&live[20..]), "keys are redacted: {text}");

    // "Did revoking it work?": only the revoked key, as JSON; exit 0.
    let out = output(
        keyhound()
            .args(["verify", "--format", "json", "--config"])
            .arg(&rules)
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url())
            .write_stdin(format!("{dead}\n")),
        0,
    )
    .stdout;
    let items = verify_items(&out);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["rule_id"], "test-openai-key");
    assert_eq!(items[0]["verified"], "inactive");
    assert_eq!(items[0]["verified_status"], 401);
    // Both runs asked once per key, and the key sent as the rule says.
    assert_eq!(provider.seen().len(), 3);
}

#[test]
fn bad_verify_block_names_file_rule_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(rules_file(dir.path()))
        .expect("rules")
        .replace("https://api.openai.com", "http://api.openai.com");
    write(dir.path(), "rules.toml", text);
    write(dir.path(), "src/a.txt", "nothing\n");
    keyhound()
        .args(["scan", "src", "--config", "rules.toml"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "rules.toml: rule `test-openai-key`: field `verify.url`",
        ));
}

#[test]
fn git_history_findings_are_verified_once_per_secret() {
    let key = openai_project_key();
    let provider = FakeProvider::start(by_key(&[(&key, Reply::Status(200))]));
    let repo = init_repo();
    let rules = rules_file(repo.path());
    write(repo.path(), "a/.env", format!("OPENAI_API_KEY={key}\n"));
    commit_all(repo.path(), "add key");
    write(repo.path(), "b/settings.py", format!("KEY = \"{key}\"\n"));
    commit_all(repo.path(), "add it again");
    let out = output(
        keyhound()
            .args(["git", ".", "--verify", "--format", "json", "--config"])
            .arg(&rules)
            .current_dir(repo.path())
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url()),
        1,
    )
    .stdout;
    let findings = json(&out);
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["verified"] == "active"),
        "{findings:?}"
    );
    assert_eq!(provider.seen().len(), 1, "the provider was asked twice");
}

#[test]
fn builtin_rules_check_openai_keys_on_v1_models() {
    let (project, legacy) = (openai_project_key(), openai_legacy_key());
    let provider = FakeProvider::start(by_key(&[
        (&project, Reply::Status(200)),
        (&legacy, Reply::Status(401)),
    ]));
    let out = output(
        keyhound()
            .args(["verify", "--format", "json"])
            .env("KEYHOUND_TEST_PROVIDER_URL", provider.url())
            .write_stdin(format!("{project}\n{legacy}\n")),
        1,
    )
    .stdout;
    let items = verify_items(&out);
    assert_eq!(items[0]["rule_id"], "openai-project-key");
    assert_eq!(items[0]["verified"], "active");
    assert_eq!(items[1]["rule_id"], "openai-legacy-key");
    assert_eq!(items[1]["verified"], "inactive");
    let seen = provider.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.target == "/v1/models"), "{seen:?}");
}
