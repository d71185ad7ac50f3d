//! Shared helpers: the binary, temporary repositories, and fake keys made at run time (the
//! repository holds no key-shaped literal, so keyhound scans its own history clean).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `keyhound` binary under test, with colour and user config out of the way.
pub fn keyhound() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("keyhound").expect("binary is built");
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Random characters from `alphabet`.
/// Never one that holds a word that makes a value a fixture (`fake`, `example`…): a key
/// body that spelled one by chance made a test fail about once in a few hundred runs.
pub fn random(alphabet: &str, n: usize) -> String {
    const MADE_UP: &[&str] = &[
        "example",
        "fake",
        "dummy",
        "sample",
        "placeholder",
        "notreal",
        "redacted",
        "foobar",
    ];
    let chars: Vec<char> = alphabet.chars().collect();
    loop {
        let s: String = (0..n)
            .map(|_| chars[fastrand::usize(..chars.len())])
            .collect();
        let lower = s.to_ascii_lowercase();
        if !MADE_UP.iter().any(|w| lower.contains(w)) {
            return s;
        }
    }
}

pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
pub const HEX: &str = "0123456789abcdef";

/// The OpenAI marker, base64 of "OpenAI", assembled so no key shape sits in the source.
pub fn marker() -> String {
    ["T3Bl", "bkFJ"].concat()
}

/// A fake OpenAI project key (real format, random body).
pub fn openai_project_key() -> String {
    format!(
        "{}-{}{}{}",
        "sk-proj",
        random(B64URL, 74),
        marker(),
        random(B64URL, 74)
    )
}

/// A fake legacy OpenAI key.
pub fn openai_legacy_key() -> String {
    format!(
        "{}-{}{}{}",
        "sk",
        random(ALNUM, 20),
        marker(),
        random(ALNUM, 20)
    )
}

/// A fake AWS access key id.
pub fn aws_key_id() -> String {
    format!(
        "{}{}",
        "AKIA",
        random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
    )
}

/// Runs `cmd` in `dir` with a fixed git identity, and the user's own git config (`HOME`, the
/// system's) out of the way.
fn identity(cmd: &mut Command, dir: &Path) {
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir);
}

/// git in `dir`, with [`identity`].
fn git_in(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    identity(&mut cmd, dir);
    cmd
}

/// Runs git in `dir` with a fixed identity; panics with git's stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_in(dir).args(args).output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A new repository in a temp dir, with `main` as the initial branch.
pub fn init_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["config", "commit.gpgsign", "false"]);
    dir
}

/// Writes a file (creating directories) under `dir`.
pub fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, content).expect("write");
}

/// Runs git with extra environment (dates), failing loudly.
pub fn git_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    git_input(dir, args, env, b"");
}

/// Runs git with `input` as its stdin. The input is always a pipe: /dev/null is not always
/// the device it should be on a shared machine, and `pack-objects` reads its stdin.
pub fn git_input(dir: &Path, args: &[&str], env: &[(&str, &str)], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = git_in(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input).expect("write to git");
    drop(stdin);
    let out = child.wait_with_output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The commit id `what` names (`git rev-parse`).
pub fn rev(dir: &Path, what: &str) -> String {
    git(dir, &["rev-parse", what]).trim().to_string()
}

/// Adds everything and commits with `msg`.
pub fn commit_all(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
}

/// The environment [`git`] runs in, for commands that must share it (the hooks' `keyhound`).
fn isolated(cmd: &mut Command, dir: &Path) {
    identity(cmd, dir);
    cmd.env("NO_COLOR", "1")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env_remove("XDG_CONFIG_HOME");
}

/// Runs git like [`git`] with extra environment variables, and returns its output whatever
/// the exit status (for commands a hook may stop).
pub fn git_output(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("git");
    isolated(&mut cmd, dir);
    cmd.args(args)
        .envs(env.iter().copied())
        .output()
        .expect("git runs")
}

/// The `keyhound` binary under test, run in `dir` with [`git`]'s environment (so that the
/// user's own git config, such as a global `core.hooksPath`, stays out of the way).
pub fn keyhound_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("keyhound"));
    isolated(&mut cmd, dir);
    assert_cmd::Command::from_std(cmd)
}

/// A fake OpenAI project key assignment line, as a developer would paste it.
pub fn key_line(key: &str) -> String {
    format!("OPENAI_API_KEY={key}\n")
}

/// The findings array of a `--format json` document (`{"findings": [...], "summary": {...}}`).
pub fn json_findings(out: &[u8]) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!(
            "not a JSON document ({e}): {}",
            String::from_utf8_lossy(out)
        )
    });
    assert!(doc["summary"].is_object(), "no summary object: {doc}");
    doc["findings"].clone()
}

/// The `summary` object of a `--format json` document.
pub fn json_summary(out: &[u8]) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_slice(out).expect("a JSON document");
    doc["summary"].clone()
}

/// What a command printed, stdout then stderr.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, asserts its exit code, and returns what it printed.
pub fn output(cmd: &mut assert_cmd::Command, code: i32) -> std::process::Output {
    cmd.assert().code(code).get_output().clone()
}

/// Runs `cmd` (a `--format json` run), asserts its exit code, and returns the findings array
/// of the document it printed (see [`json_findings`]).
pub fn run_json(cmd: &mut assert_cmd::Command, code: i32) -> serde_json::Value {
    json_findings(&output(cmd, code).stdout)
}

/// `n` in base62 (`0-9A-Za-z`), left-padded with `0` to six digits: the checksum suffix of a
/// GitHub token (CRC32 of its body). Written out here so the tests do not lean on the
/// library's internals.
pub fn base62_6(mut n: u32) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}
