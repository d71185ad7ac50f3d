//! End-to-end tests: what keyhound cannot or will not read whole. A scan that could not read
//! everything it was asked to is incomplete and says so (exit 3 unless the policy is warn), in
//! the hook and the CI gate too; every read is bounded (special files, `/proc`, stdin, huge
//! blobs, settings files pointing at devices); text that looks binary only for its encoding
//! (UTF-16 without a byte-order mark) is read as text.

use std::path::Path;

use serde_json::{json, Value};

use crate::util::*;

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
    let before = rev(d, "HEAD");
    let out = git_output(d, &["commit", "-q", "-m", "dump"], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "the commit must be stopped: {t}");
    assert_eq!(rev(d, "HEAD"), before, "{t}");
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
    assert_ne!(rev(d, "HEAD"), before);
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
    let base = rev(d, "HEAD");
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

/// What [`run_bounded`] gives keyhound on stdin.
enum Input {
    Bytes(Vec<u8>),
    /// A pipe nobody writes to or closes while keyhound runs: reading it would wait forever.
    Held,
}

/// What a run of [`run_bounded`] gave.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    /// Peak resident memory in KiB (when `/usr/bin/time` is installed).
    peak_kib: Option<u64>,
}

/// Runs keyhound with `args` in `dir` under `/usr/bin/time` when installed, with `input` on
/// stdin; a run that has not ended after 60 seconds fails the test (it would have hung).
fn run_bounded(dir: &Path, args: &[&str], input: Input) -> Run {
    run_bounded_with(dir, args, input, &[])
}

/// [`run_bounded`] with extra environment variables and nothing on stdin.
fn run_bounded_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_bounded_with(dir, args, Input::Held, env)
}

fn run_bounded_with(dir: &Path, args: &[&str], input: Input, env: &[(&str, &str)]) -> Run {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "peak-rss-kib=%M"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("keyhound starts");
    let mut stdin = child.stdin.take();
    let writer = match input {
        Input::Bytes(bytes) => {
            let mut pipe = stdin.take().expect("stdin is piped");
            // keyhound may stop reading early: a broken pipe is expected then.
            Some(std::thread::spawn(move || drop(pipe.write_all(&bytes))))
        }
        Input::Held => None,
    };
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let stdout = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let stderr = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            drop(stdin.take());
            panic!("keyhound {args:?} did not end within 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stderr = String::from_utf8_lossy(&stderr.join().expect("stderr read")).into_owned();
    let peak_kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|v| v.trim().parse().ok());
    Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout read"),
        stderr,
        peak_kib,
    }
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn stdin_over_the_limit_is_read_no_further() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = vec![b'a'; 64 << 20];
    data.extend_from_slice(key_line(&openai_project_key()).as_bytes());
    let r = run_bounded(
        dir.path(),
        &["scan", "-", "--max-file-size", "1M", "-f", "json"],
        Input::Bytes(data),
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(
        json_summary(&r.stdout)["incomplete"],
        json!([{"what": "-", "reason": {"kind": "too_large", "limit": 1 << 20}}])
    );
    assert!(
        r.stderr
            .contains("incomplete: -: holds more than --max-file-size (1 MiB)"),
        "{}",
        r.stderr
    );
    // It held 1 MiB and a byte of the 64 MiB, not all of it.
    if let Some(kib) = r.peak_kib {
        assert!(kib < 40 << 10, "peak RSS {kib} KiB");
    }
}

#[test]
fn settings_files_that_are_devices_or_fifos_are_errors_not_hangs() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app.py", "print('hi')\n");
    // Each points where reading would never end or never start.
    for (file, target) in [
        (".keyhoundignore", "/dev/zero"),
        (".keyhoundignore", "/dev/stdin"),
        (".keyhound.toml", "/dev/zero"),
        (".keyhound.toml", "/dev/stdin"),
    ] {
        symlink(target, d.join(file)).unwrap();
        let r = run_bounded(d, &["scan", "."], Input::Held);
        assert_eq!(r.code, Some(2), "{file} -> {target}: {}", r.stderr);
        assert!(
            r.stderr.contains(file) && r.stderr.contains("not a regular file"),
            "{file} -> {target}: {}",
            r.stderr
        );
        std::fs::remove_file(d.join(file)).unwrap();
    }
    mkfifo(&d.join("baseline.json"));
    let r = run_bounded(
        d,
        &["scan", ".", "--baseline", "baseline.json"],
        Input::Held,
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("baseline.json: not a regular file (a FIFO)"),
        "{}",
        r.stderr
    );
}

#[test]
fn hook_with_a_committed_ignore_file_pointing_at_dev_zero_stops_with_an_error() {
    let dir = repo_with_hook();
    let d = dir.path();
    std::os::unix::fs::symlink("/dev/zero", d.join(".keyhoundignore")).unwrap();
    git(d, &["add", ".keyhoundignore"]);
    let out = git_output(d, &["commit", "-q", "--no-verify", "-m", "ignore"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    write(d, "app.py", "print('hi')\n");
    git(d, &["add", "app.py"]);
    let before = rev(d, "HEAD");
    let out = git_output(d, &["commit", "-q", "-m", "app"], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert_eq!(rev(d, "HEAD"), before);
    assert!(t.contains(".keyhoundignore: not a regular file"), "{t}");
}

#[test]
fn fifo_in_a_walked_directory_is_counted_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = openai_project_key();
    write(d, "src/.env", key_line(&key));
    mkfifo(&d.join("src/pipe"));
    let r = run_bounded(d, &["scan", "."], Input::Held);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert_eq!(r.code, Some(1), "{stdout}{}", r.stderr);
    assert!(
        stdout.contains(
            "skipped 1 special file (FIFOs, sockets, devices are not read in a walk): src/pipe"
        ),
        "{stdout}"
    );
    let r = run_bounded(d, &["scan", ".", "-f", "json"], Input::Held);
    assert_eq!(
        json_summary(&r.stdout)["special_files"],
        json!(["src/pipe"])
    );
}

#[test]
fn fifo_dev_stdin_and_process_substitution_named_on_the_command_line_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = openai_project_key();
    let content = format!("import os\n{}", key_line(&key));
    write(d, "secret.py", &content);
    let findings = |r: &Run| {
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        let f = json_findings(&r.stdout);
        assert_eq!(f.as_array().unwrap().len(), 1, "{f}");
        (
            f[0]["locations"][0]["path"].as_str().unwrap().to_string(),
            f[0]["locations"][0]["line"].clone(),
        )
    };
    // /dev/stdin: a pipe.
    let r = run_bounded(
        d,
        &["scan", "-f", "json", "/dev/stdin"],
        Input::Bytes(content.clone().into_bytes()),
    );
    assert_eq!(findings(&r), ("/dev/stdin".to_string(), json!(2)));
    // A FIFO someone writes to.
    let fifo = d.join("pipe");
    mkfifo(&fifo);
    let writer = {
        let (fifo, content) = (fifo.clone(), content.clone());
        std::thread::spawn(move || std::fs::write(fifo, content))
    };
    let r = run_bounded(d, &["scan", "-f", "json", "pipe"], Input::Held);
    writer.join().unwrap().unwrap();
    assert_eq!(findings(&r).0, "pipe");
    // `<(cat secret.py)`, as a shell passes it.
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("'{}' scan -f json <(cat secret.py)", bin.display()))
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(json_findings(&out.stdout).as_array().unwrap().len(), 1);
    // A device named on the command line is read up to the limit, and says so.
    let r = run_bounded(
        d,
        &["scan", "-f", "json", "--max-file-size", "64K", "/dev/zero"],
        Input::Held,
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(
        json_summary(&r.stdout)["incomplete"][0]["what"],
        "/dev/zero"
    );
}

#[test]
fn proc_files_are_read_within_the_limit() {
    if !Path::new("/proc/self/pagemap").exists() {
        eprintln!("note: no /proc here; not tested");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // /proc files say they are empty; pagemap holds gigabytes. Errors (files the kernel will
    // not give) are expected; what matters is that the scan ends within bounded memory.
    let r = run_bounded(
        dir.path(),
        &[
            "scan",
            "-q",
            "-f",
            "jsonl",
            "-o",
            "/dev/null",
            "--max-file-size",
            "1M",
            "/proc/self",
        ],
        Input::Held,
    );
    assert!(r.code.is_some(), "{}", r.stderr);
    if let Some(kib) = r.peak_kib {
        assert!(kib < 64 << 10, "peak RSS {kib} KiB");
    }
}

#[test]
fn blob_over_the_limit_is_never_inflated_even_as_a_small_delta() {
    let dir = init_repo();
    let d = dir.path();
    // 24 MiB of text, then the same with one line more: packed, one of the two is a delta of
    // a few KB against the other, which inflated to 24 MiB (and its base) before it was
    // skipped. (Fast compression: this is about sizes, not bytes.)
    let chunk: String = (0..(1 << 20) / 64)
        .map(|_| random(ALNUM, 63) + "\n")
        .collect();
    let big = chunk.repeat(24);
    let commit = |text: &str, msg: &str| {
        write(d, "data/big.txt", text);
        git(d, &["-c", "core.compression=1", "add", "-A"]);
        git(d, &["commit", "-q", "-m", msg]);
    };
    commit(&big, "big");
    commit(
        &format!("{}changed\n{}", &big[..640], &big[640..]),
        "changed",
    );
    drop(big);
    git(d, &["-c", "pack.compression=1", "repack", "-adq"]);
    let packs = d.join(".git/objects/pack");
    let index = std::fs::read_dir(&packs)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("one pack");
    let verify = git(d, &["verify-pack", "-v", &index.display().to_string()]);
    // `id blob size size-in-pack offset depth base`: a delta has a depth.
    let deltas = verify
        .lines()
        .filter(|l| l.contains(" blob ") && l.split_whitespace().count() == 7)
        .count();
    assert_eq!(deltas, 1, "{verify}");
    let r = run_bounded(
        d,
        &["git", ".", "-f", "json", "--max-file-size", "1M"],
        Input::Held,
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let incomplete = json_summary(&r.stdout)["incomplete"].clone();
    let incomplete = incomplete.as_array().unwrap();
    assert_eq!(incomplete.len(), 2, "{incomplete:?}");
    assert!(incomplete.iter().all(|i| i["what"] == "data/big.txt"));
    if let Some(kib) = r.peak_kib {
        assert!(kib < 32 << 10, "peak RSS {kib} KiB: {verify}");
    }
}

#[test]
fn utf16_without_a_byte_order_mark_is_text_in_files_and_in_commits() {
    let dir = repo_with_hook();
    let d = dir.path();
    let key = openai_project_key();
    // As PowerShell's `Out-File -Encoding unicode` writes it, minus the byte-order mark some
    // tools leave out; and the big-endian form.
    let settings = format!("# settings\r\nOPENAI_API_KEY={key}\r\n");
    let le: Vec<u8> = settings.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = settings.encode_utf16().flat_map(u16::to_be_bytes).collect();
    write(d, "config/settings.ps1", &le);
    write(d, "config/legacy.txt", &be);
    let out = keyhound()
        .args(["scan", "-f", "json", "config"])
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let found = json_findings(&out.stdout);
    let mut got: Vec<(String, Value, Value)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let l = &f["locations"][0];
            (
                l["path"].as_str().unwrap().to_string(),
                l["line"].clone(),
                l["column"].clone(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("config/legacy.txt".into(), json!(2), json!(16)),
            ("config/settings.ps1".into(), json!(2), json!(16)),
        ]
    );
    // The staged blob too, in a real commit through the hook.
    git(d, &["add", "config/settings.ps1"]);
    let before = rev(d, "HEAD");
    let out = git_output(d, &["commit", "-q", "-m", "settings"], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert_eq!(rev(d, "HEAD"), before);
    assert!(
        t.contains("config/settings.ps1:2:16: openai-project-key"),
        "{t}"
    );
}

#[test]
fn a_config_that_would_stall_every_run_is_rejected_naming_file_rule_and_field() {
    let dir = repo_with_hook();
    let d = dir.path();
    write(d, "a.txt", "hi\n");
    git(d, &["add", "a.txt"]);
    let before = rev(d, "HEAD");
    // One 40,000-byte keyword made a 3-byte file take 131 s on every hook run; the regex cost
    // about 90 s per MiB searched.
    let long = "k".repeat(40_000);
    for (rule, field, problem) in [
        (
            format!("id = \"long\"\nregex = 'k+'\nkeywords = [\"{long}\"]\n"),
            "`keywords`",
            "a keyword of 40000 bytes",
        ),
        (
            "id = \"slow\"\nregex = '(?:a|aa){2000}X'\nkeywords = [\"X\"]\n".to_string(),
            "`regex`",
            "compiles to more than 256 KiB",
        ),
    ] {
        write(
            d,
            ".keyhound.toml",
            format!("[[rules]]\ndescription = \"d\"\n{rule}"),
        );
        let r = run_bounded(d, &["scan", "a.txt"], Input::Held);
        assert_eq!(r.code, Some(2), "{}", r.stderr);
        let id = if field == "`keywords`" {
            "`long`"
        } else {
            "`slow`"
        };
        for part in [".keyhound.toml", id, field, problem] {
            assert!(r.stderr.contains(part), "{part}: {}", r.stderr);
        }
        // The hook stops the commit with the same message, at once.
        let out = git_output(d, &["commit", "-q", "-m", "a"], &[]);
        let t = text(&out);
        assert!(!out.status.success() && t.contains(problem), "{t}");
        assert_eq!(rev(d, "HEAD"), before);
    }
}

#[test]
fn a_costly_config_regex_runs_out_of_its_budget_and_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Small enough to load (29 KiB compiled), but no lazy DFA can follow it on text of a and
    // b: about 6 s per MiB searched. The keyword occurs every 32 KiB.
    write(
        d,
        ".keyhound.toml",
        "[[rules]]\nid = \"costly\"\ndescription = \"d\"\nregex = '[ab]*a[ab]{400}X'\nkeywords = [\"KW\"]\n",
    );
    // The regex requires an `X`: without one the rule gate would skip it (there is no match),
    // so one stands where nothing can end at it.
    let mut text = String::from("X\n");
    while text.len() < 256 << 10 {
        text += &random("ab", 32 << 10);
        text += "KW";
    }
    write(d, "ab.txt", &text);
    let r = run_bounded_env(
        d,
        &["scan", "-f", "json", "ab.txt"],
        &[("KEYHOUND_SCAN_BUDGET_MS", "100")],
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert_eq!(
        json_summary(&r.stdout)["incomplete"],
        json!([{"what": "ab.txt", "reason": {"kind": "scan_budget", "limit_ms": 100}}])
    );
    assert!(
        r.stderr
            .contains("incomplete: ab.txt: scanning it took longer than its budget (0.1 s)"),
        "{}",
        r.stderr
    );
}
