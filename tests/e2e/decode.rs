//! End-to-end tests: keys hidden in encodings (base64, hex, percent, string escapes) and
//! containers (zip, tar.gz, gzip, notebooks), and the limits that keep that cheap and safe.
//! Archives are built here at run time; the bombs are written by hand (a deflate stream of
//! zeros is periodic), so no test spends seconds compressing.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use crate::util::*;

/// `keyhound scan -f json` over `dir`, with the OpenAI project key rule from a config file
/// while the built-in rule pack does not have it yet.
fn scan(dir: &Path) -> assert_cmd::Command {
    let mut cmd = keyhound();
    cmd.args(["scan", "-f", "json"]).current_dir(dir);
    if let Some(config) = fallback_rules() {
        cmd.arg("--config").arg(config);
    }
    cmd
}

fn fallback_rules() -> Option<&'static Path> {
    static RULES: OnceLock<Option<tempfile::TempPath>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let listed = keyhound()
                .args(["rules", "list", "--format", "json"])
                .output()
                .expect("keyhound runs");
            if String::from_utf8_lossy(&listed.stdout).contains("\"openai-project-key\"") {
                return None;
            }
            let mut file = tempfile::NamedTempFile::new().expect("temp file");
            let m = marker();
            write!(
                file,
                "[[rules]]\nid = \"openai-project-key\"\ndescription = \"OpenAI project key\"\n\
                 regex = '''\\b(sk-proj-[A-Za-z0-9_-]{{20,100}}{m}[A-Za-z0-9_-]{{20,100}})(?:[^A-Za-z0-9_-]|$)'''\n\
                 keywords = [\"{m}\"]\nentropy = 3.5\nseverity = \"high\"\n"
            )
            .expect("write rules");
            Some(file.into_temp_path())
        })
        .as_deref()
}

/// Runs and returns (exit code, the OpenAI project key findings, stderr). Other rules of the
/// built-in pack may fire on the same text; these tests are about where the keys are found.
fn run(cmd: &mut assert_cmd::Command) -> (i32, Vec<Value>, String) {
    let out = cmd.output().expect("keyhound runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = json_findings(&out.stdout);
    let code = out.status.code().expect("exit code");
    assert_ne!(code, 2, "{stderr}");
    let keys = findings
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule_id"] == "openai-project-key")
        .cloned()
        .collect();
    (code, keys, stderr)
}

fn loc(f: &Value) -> (String, u64, u64) {
    let l = &f["locations"][0];
    (
        l["path"].as_str().unwrap_or_default().to_string(),
        l["line"].as_u64().unwrap_or_default(),
        l["column"].as_u64().unwrap_or_default(),
    )
}

fn secret(f: &Value) -> &str {
    f["secret"].as_str().unwrap_or_default()
}

/// 1-based column of `needle` in `text`'s line holding it, and that line's number.
fn position(text: &str, needle: &str) -> (u64, u64) {
    let at = text.find(needle).expect("needle in text");
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line as u64, col as u64)
}

#[test]
fn base64_in_kubernetes_secret() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    let value = STANDARD.encode(&k1);
    let dotenv = format!("# app settings\nDEBUG=0\nOPENAI_API_KEY={k2}\nREGION=eu\n");
    let blob = STANDARD.encode(&dotenv);
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  \
         OPENAI_API_KEY: {value}\n  .env: {blob}\n"
    );
    write(dir.path(), "k8s/secret.yaml", &manifest);
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1, "{found:?} {stderr}");
    assert_eq!(found.len(), 2, "{found:#?}");
    let f1 = found
        .iter()
        .find(|f| secret(f).starts_with("sk-proj"))
        .unwrap();
    assert_eq!(f1["decoded"], "base64");
    let (line, col) = position(&manifest, &value);
    assert_eq!(loc(f1), ("k8s/secret.yaml".into(), line, col));
    // The key inside the base64 `.env` points into the blob, where its encoding starts.
    let f2 = &found[1];
    assert_eq!(f2["decoded"], "base64");
    let (line, col) = position(&manifest, &blob);
    let offset = dotenv.find(&k2).unwrap() as u64;
    assert_eq!(
        loc(f2),
        ("k8s/secret.yaml".into(), line, col + offset * 4 / 3)
    );
    // Redacted in output, like any finding; --no-redact shows the decoded key.
    let (_, shown, _) = run(scan(dir.path()).args([".", "--no-redact"]));
    let secrets: Vec<&str> = shown.iter().map(secret).collect();
    assert!(secrets.contains(&k1.as_str()) && secrets.contains(&k2.as_str()));
}

#[test]
fn percent_encoded_key_in_url() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let encoded = key.replace('-', "%2D").replace('_', "%5F");
    let text =
        format!("fetch(\"https://api.example.com/v1/chat?q=hello%20world&key={encoded}\")\n");
    write(dir.path(), "client.js", &text);
    let (code, found, _) = run(scan(dir.path()).args([".", "--no-redact"]));
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["decoded"], "percent");
    assert_eq!(secret(&found[0]), key);
    let (line, col) = position(&text, &encoded);
    assert_eq!(loc(&found[0]), ("client.js".into(), line, col));
}

#[test]
fn json_escaped_key_and_hex() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    let escaped = k1.replace('-', "\\u002d");
    let json_text =
        format!("{{\"endpoint\":\"https:\\/\\/api.example.com\",\"key\":\"{escaped}\"}}\n");
    write(dir.path(), "config.json", &json_text);
    let hexed: String = k2.bytes().map(|b| format!("{b:02x}")).collect();
    write(dir.path(), "key.hex", format!("OPENAI_KEY_HEX={hexed}\n"));
    let (code, found, _) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(loc(&found[0]).0, "config.json");
    assert_eq!(found[0]["decoded"], "escape");
    assert_eq!(loc(&found[0]).2, position(&json_text, &escaped).1);
    assert_eq!(loc(&found[1]), ("key.hex".into(), 1, 16));
    assert_eq!(found[1]["decoded"], "hex");
}

#[test]
fn plain_and_decoded_at_the_same_place_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    // The line holds an escape, so it is decoded too; the key is the same key at the same place.
    write(
        dir.path(),
        "a.txt",
        format!("https://x.example/?q=a%20b&key={key}\n"),
    );
    let (code, found, _) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0]["decoded"].is_null());
}

#[test]
fn random_base64_yields_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let noise: Vec<u8> = (0..3000).map(|_| fastrand::u8(..)).collect();
    // Random bytes around the key's marker: the run is decoded (an encoded keyword is in it),
    // but what it decodes to is no key.
    let mut teaser: Vec<u8> = (0..300).map(|_| fastrand::u8(..)).collect();
    teaser.extend_from_slice(format!("sk-proj-{}", marker()).as_bytes());
    teaser.extend((0..300).map(|_| fastrand::u8(..)));
    write(
        dir.path(),
        "blobs.txt",
        format!(
            "a: {}\nb: {}\nc: {}\n",
            STANDARD.encode(&noise),
            URL_SAFE_NO_PAD.encode(&noise),
            STANDARD.encode(&teaser)
        ),
    );
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert!(found.is_empty(), "{found:#?} {stderr} {code}");
}

#[test]
fn depth_limits_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let once = STANDARD.encode(format!("OPENAI_API_KEY={key}"));
    let twice = STANDARD.encode(&once);
    let thrice = STANDARD.encode(&twice);
    write(dir.path(), "once.txt", format!("v: {once}\n"));
    write(dir.path(), "twice.txt", format!("v: {twice}\n"));
    write(dir.path(), "thrice.txt", format!("v: {thrice}\n"));
    let (_, found, _) = run(scan(dir.path()).arg("."));
    let how: Vec<(String, String)> = found
        .iter()
        .map(|f| (loc(f).0, f["decoded"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(
        how,
        vec![
            ("once.txt".into(), "base64".into()),
            ("twice.txt".into(), "base64 > base64".into())
        ]
    );
    let (_, found, _) = run(scan(dir.path()).args([".", "--max-decode-depth", "1"]));
    assert_eq!(found.len(), 1, "{found:#?}");
    let (_, found, _) = run(scan(dir.path()).args([".", "--max-decode-depth", "0"]));
    assert!(found.is_empty(), "{found:#?}");
}

fn zip_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(data).expect("zip data");
    }
    w.finish().expect("zip written").into_inner()
}

fn tar_gz_bytes(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, *data).expect("tar entry");
    }
    tar.into_inner()
        .expect("tar written")
        .finish()
        .expect("gzip written")
}

#[test]
fn gzip_member_is_named_after_the_whole_file_name() {
    // A `#` or `!` in the file's own name is part of the name, not a separator: the member of
    // `logs/run#2!.log.gz` is `run#2!.log` (it was `.log` while names were parsed back).
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("key={key}\n").as_bytes()).unwrap();
    write(dir.path(), "logs/run#2!.log.gz", gz.finish().unwrap());
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1, "{stderr}");
    let got: Vec<String> = found.iter().map(|f| loc(f).0).collect();
    assert_eq!(
        got,
        vec!["logs/run#2!.log.gz!run#2!.log".to_string()],
        "{stderr}"
    );
}

#[test]
fn key_in_zip_in_tar_gz() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    let inner = zip_bytes(&[
        ("README.md", b"# app\n"),
        (
            "config/.env",
            format!("DEBUG=1\nOPENAI_API_KEY={k1}\n").as_bytes(),
        ),
    ]);
    let outer = tar_gz_bytes(&[
        ("release/notes.txt", b"nothing here\n"),
        ("release/app.zip", &inner),
    ]);
    write(dir.path(), "dist/bundle.tar.gz", &outer);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(format!("\n\nkey={k2}\n").as_bytes()).unwrap();
    write(dir.path(), "logs/app.log.gz", gz.finish().unwrap());
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1, "{stderr}");
    let got: Vec<(String, u64, u64)> = found.iter().map(loc).collect();
    assert_eq!(
        got,
        vec![
            (
                "dist/bundle.tar.gz!release/app.zip!config/.env".into(),
                2,
                16
            ),
            ("logs/app.log.gz!app.log".into(), 3, 5),
        ],
        "{stderr}"
    );
    assert!(found.iter().all(|f| f["decoded"].is_null()));
    // One layer less and the zip inside is not opened.
    let (_, found, _) = run(scan(dir.path()).args([".", "--max-decode-depth", "1"]));
    let got: Vec<String> = found.iter().map(|f| loc(f).0).collect();
    assert_eq!(got, vec!["logs/app.log.gz!app.log".to_string()]);
}

#[test]
fn nested_three_deep_needs_depth_three() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let l1 = zip_bytes(&[(".env", format!("OPENAI_API_KEY={key}\n").as_bytes())]);
    let l2 = zip_bytes(&[("l1.zip", &l1)]);
    let l3 = zip_bytes(&[("l2.zip", &l2)]);
    write(dir.path(), "l3.zip", &l3);
    let out = scan(dir.path()).arg(".").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "incomplete: {stderr}");
    assert!(json_findings(&out.stdout).as_array().unwrap().is_empty());
    assert!(
        stderr.contains(
            "incomplete: l3.zip!l2.zip!l1.zip: nested deeper than --max-decode-depth (2); not opened"
        ),
        "{stderr}"
    );
    assert_eq!(
        json_summary(&out.stdout)["incomplete"],
        json!([{"what": "l3.zip!l2.zip!l1.zip", "reason": {"kind": "depth_limit", "depth": 2}}])
    );
    let (code, found, _) = run(scan(dir.path()).args([".", "--max-decode-depth", "3"]));
    assert_eq!(code, 1);
    assert_eq!(loc(&found[0]).0, "l3.zip!l2.zip!l1.zip!.env");
}

#[test]
fn stored_zip_member_reported_once_at_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("a/.env", stored).unwrap();
    w.write_all(format!("K={key}\n").as_bytes()).unwrap();
    write(dir.path(), "a.jar", w.finish().unwrap().into_inner());
    let (code, found, _) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1);
    let got: Vec<(String, u64, u64)> = found.iter().map(loc).collect();
    assert_eq!(got, vec![("a.jar!a/.env".into(), 1, 3)]);
}

#[test]
fn corrupt_archive_is_noted_and_scanned_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let mut bytes = b"PK\x03\x04\x14\x00garbage\x00\x00".to_vec();
    bytes.extend_from_slice(format!(" {key} ").as_bytes());
    write(dir.path(), "broken.zip", &bytes);
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(loc(&found[0]).0, "broken.zip");
    assert!(
        stderr.contains(
            "incomplete: broken.zip: could not be read whole (not a readable zip archive"
        ),
        "{stderr}"
    );
}

#[test]
fn notebook_cell_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (openai_project_key(), openai_project_key());
    let nb = json!({
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Demo\n", "Set up the client."]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
             "source": ["import os\n", "from openai import OpenAI\n", format!("client = OpenAI(api_key=\"{k1}\")\n")]},
            {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": ["print(os.environ)"],
             "outputs": [{"name": "stdout", "output_type": "stream",
                          "text": ["environ({'HOME': '/root',\n", format!("         'OPENAI_API_KEY': '{k2}'}})\n")]}]}
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    write(
        dir.path(),
        "demo.ipynb",
        serde_json::to_string_pretty(&nb).unwrap(),
    );
    let (code, found, stderr) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1, "{stderr}");
    let got: Vec<(String, u64, u64)> = found.iter().map(loc).collect();
    assert_eq!(
        got,
        vec![
            ("demo.ipynb#cell-2".into(), 3, 26),
            ("demo.ipynb#cell-3/output-1".into(), 2, 29),
        ]
    );
}

/// A raw deflate stream of `1 + units * 2064` zero bytes: a literal zero, then copies of 258
/// bytes at distance 1 (fixed Huffman codes, 13 bits each, so 8 of them repeat every 13 bytes).
fn zeros_deflate(units: usize) -> (Vec<u8>, u64) {
    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, len: u32) {
            self.acc |= value << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        // Huffman codes go most significant bit first.
        fn code(&mut self, code: u64, len: u32) {
            let rev = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
            self.put(rev, len);
        }
    }
    let mut b = Bits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    b.put(1, 1); // last block
    b.put(1, 2); // fixed codes
    b.code(0x30, 8); // literal 0
    for _ in 0..16 {
        b.code(0xC5, 8); // length 258
        b.code(0, 5); // distance 1
    }
    b.code(0, 7); // end of block
    if b.n > 0 {
        b.out.push(b.acc as u8);
    }
    let two = b.out; // the stream for 2 units
    let mut out = two[..2].to_vec();
    for _ in 0..units.saturating_sub(1) {
        out.extend_from_slice(&two[2..15]);
    }
    out.extend_from_slice(&two[15..]);
    (out, 1 + units as u64 * 2064)
}

/// A zip of deflated members given as (name, declared size, crc, deflate data), written by hand
/// so that sizes can lie.
fn raw_zip(members: &[(&str, u32, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, size, crc, data) in members {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            for v in [20u16, 0, 8, 0, 0x21] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [*crc, data.len() as u32, *size] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                for v in [0u16, 0, 0, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes());
                }
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, members.len() as u16, members.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Peak resident memory of `keyhound ARGS` in `dir`, in KiB, with its stderr (`None` when
/// `/usr/bin/time` is missing).
fn peak_rss(dir: &Path, args: &[&str]) -> Option<(u64, String)> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let mut cmd = std::process::Command::new(time);
    cmd.args(["-f", "peak-rss-kib=%M"])
        .arg(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(args)
        .current_dir(dir);
    if let Some(config) = fallback_rules() {
        cmd.arg("--config").arg(config);
    }
    let out = cmd.output().expect("time runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak-rss-kib="))
        .and_then(|v| v.trim().parse().ok())?;
    Some((kib, stderr))
}

#[test]
fn zip_bomb_is_bounded_noted_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    // 2 GiB of zeros in about 13 MB, twice: once declared honestly, once declared as 1 KiB.
    let (data, size) = zeros_deflate((2usize << 30) / 2064);
    let bomb = raw_zip(&[
        ("zeros.bin", size as u32, 0, &data),
        ("small.txt", 1024, 0, &data),
    ]);
    write(dir.path(), "bomb.zip", &bomb);
    write(dir.path(), "app/.env", format!("OPENAI_API_KEY={key}\n"));
    let args = ["scan", "-f", "json", ".", "--max-file-size", "32M"];
    let (code, found, stderr) = run(scan(dir.path()).args(&args[3..]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found.len(), 1);
    assert_eq!(loc(&found[0]).0, "app/.env");
    assert!(
        stderr.contains(
            "incomplete: bomb.zip!zeros.bin: larger than --max-file-size (32 MiB) once decompressed"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "incomplete: bomb.zip!small.txt: larger than --max-file-size (32 MiB) once decompressed"
        ),
        "{stderr}"
    );
    match peak_rss(dir.path(), &args) {
        // The archive (13 MB) and one capped member (32 MiB, grown by doubling) at most.
        Some((kib, stderr)) => {
            eprintln!("zip bomb: peak RSS {kib} KiB");
            assert!(kib < 200 * 1024, "peak RSS {kib} KiB: {stderr}");
        }
        None => eprintln!("note: /usr/bin/time missing; memory not measured"),
    }
}

#[test]
fn decompression_budget_is_shared_by_members() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    // Six members of ~3 MiB of zeros under a 4 MiB cap: the 16 MiB budget ends in the sixth.
    let (data, size) = zeros_deflate(3 << 20 >> 11);
    let crc = crc32(&vec![0u8; size as usize]);
    let env = format!("OPENAI_API_KEY={key}\n");
    let mut members: Vec<(String, u32, u32, Vec<u8>)> = vec![(
        ".env".into(),
        env.len() as u32,
        crc32(env.as_bytes()),
        stored_deflate(env.as_bytes()),
    )];
    for i in 0..6 {
        members.push((format!("zeros-{i}.bin"), size as u32, crc, data.clone()));
    }
    let refs: Vec<(&str, u32, u32, &[u8])> = members
        .iter()
        .map(|(n, s, c, d)| (n.as_str(), *s, *c, d.as_slice()))
        .collect();
    write(dir.path(), "many.zip", raw_zip(&refs));
    let (code, found, stderr) = run(scan(dir.path()).args([".", "--max-file-size", "4M"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(loc(&found[0]).0, "many.zip!.env");
    assert!(
        stderr.contains("incomplete: many.zip: stopped looking inside after 16 MiB"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("incomplete: ").count(), 1, "{stderr}");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

/// A deflate stream holding `data` in one stored block.
fn stored_deflate(data: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(&(!(data.len() as u16)).to_le_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn decoding_applies_to_git_history() {
    let repo = init_repo();
    let key = openai_project_key();
    write(
        repo.path(),
        "deploy/secret.yaml",
        format!("data:\n  token: {}\n", STANDARD.encode(&key)),
    );
    commit_all(repo.path(), "add secret");
    let mut cmd = keyhound();
    cmd.args(["git", "-f", "json", "."])
        .current_dir(repo.path());
    if let Some(config) = fallback_rules() {
        cmd.arg("--config").arg(config);
    }
    let (code, found, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found[0]["decoded"], "base64", "{found:#?}");
    assert_eq!(loc(&found[0]).1, 2);
}

#[test]
fn decoding_applies_to_staged_changes() {
    let repo = init_repo();
    write(repo.path(), "README.md", "# app\n");
    commit_all(repo.path(), "init");
    let key = openai_project_key();
    let url = format!("https://api.example.com/v1?key={}", key.replace('-', "%2D"));
    write(repo.path(), "README.md", format!("# app\n\nDemo: {url}\n"));
    git(repo.path(), &["add", "README.md"]);
    let mut cmd = keyhound();
    cmd.args(["git", "--staged", "-f", "json"])
        .current_dir(repo.path());
    if let Some(config) = fallback_rules() {
        cmd.arg("--config").arg(config);
    }
    let (code, found, stderr) = run(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found[0]["decoded"], "percent", "{found:#?}");
    assert_eq!(loc(&found[0]).1, 3);
}

#[test]
fn base64_wrapped_over_lines() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    // `base64` wraps at 76 columns; the key crosses line breaks inside the block.
    let dotenv = format!("# settings\nDEBUG=false\nREGION=eu-west-1\nOPENAI_API_KEY={key}\n");
    let encoded = STANDARD.encode(&dotenv);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  env.b64: |\n    {}\n",
        lines.join("\n    ")
    );
    write(dir.path(), "cm.yaml", &yaml);
    let (code, found, stderr) = run(scan(dir.path()).args([".", "--no-redact"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(secret(&found[0]), key);
    assert_eq!(found[0]["decoded"], "base64");
    // Where the key's encoding starts: its offset in the .env, 4/3 as many characters into the
    // block, counted across the wrapped lines.
    let at = dotenv.find(&key).unwrap() * 4 / 3;
    let (line, col) = (5 + at / 76, 5 + at % 76);
    assert_eq!(loc(&found[0]), ("cm.yaml".into(), line as u64, col as u64));
}

#[test]
fn chained_encodings_say_how() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let url = format!("https://api.example.com/v1?key={}", key.replace('-', "%2D"));
    let blob = STANDARD.encode(format!("endpoint: {url}\n"));
    let text = format!("{{\"config\": \"{blob}\"}}\n");
    write(dir.path(), "settings.json", &text);
    let (code, found, stderr) = run(scan(dir.path()).args([".", "--no-redact"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["decoded"], "base64 > percent");
    assert_eq!(secret(&found[0]), key);
    // The key starts where its first character's encoding starts inside the blob.
    let k = format!("endpoint: {url}").find("sk").unwrap();
    let (_, col) = position(&text, &blob);
    assert_eq!(
        loc(&found[0]),
        ("settings.json".into(), 1, col + (k * 4 / 3) as u64)
    );
}

#[test]
fn staged_scan_reports_archive_notes_and_human_output_says_decoded() {
    let dir = init_repo();
    let key = openai_project_key();
    let mut bytes = b"PK\x03\x04\x14\x00garbage\x00\x00".to_vec();
    bytes.extend_from_slice(b" nothing here ");
    write(dir.path(), "broken.zip", &bytes);
    write(
        dir.path(),
        "k8s/secret.yaml",
        format!("data:\n  OPENAI_API_KEY: {}\n", STANDARD.encode(&key)),
    );
    git(dir.path(), &["add", "."]);
    keyhound_in(dir.path())
        .args(["git", "--staged"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("decoded:     base64"))
        .stdout(predicates::str::contains(
            "incomplete: 1 item was not read whole",
        ))
        .stderr(predicates::str::contains("incomplete: broken.zip (blob "))
        .stderr(predicates::str::contains("not a readable zip archive"));
}

#[test]
fn tar_gz_whose_padding_uses_up_the_budget_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let env = format!("OPENAI_API_KEY={key}\n");
    // Under a 512 KiB cap the budget is 2 MiB: the 3 MiB of padding use it up before `.env`.
    let pad = vec![0u8; 3 << 20];
    write(
        dir.path(),
        "release.tar.gz",
        tar_gz_bytes(&[("pad.bin", &pad), (".env", env.as_bytes())]),
    );
    let out = scan(dir.path())
        .args([".", "--max-file-size", "512K"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(json_findings(&out.stdout).as_array().unwrap().is_empty());
    let incomplete = &json_summary(&out.stdout)["incomplete"];
    assert!(
        incomplete.as_array().unwrap().contains(&json!({
            "what": "release.tar.gz",
            "reason": {"kind": "decode_budget", "limit": 2 << 20}
        })),
        "{incomplete}"
    );
    assert!(stderr.contains("incomplete: release.tar.gz: stopped looking inside after 2 MiB"));
    let (code, found, _) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1);
    assert_eq!(loc(&found[0]).0, "release.tar.gz!.env");
}

#[test]
fn zip_member_whose_header_claims_too_much_is_read_anyway() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let env = format!("OPENAI_API_KEY={key}\n");
    // The header says 64 MiB, over the 1 MiB cap; the member holds one line.
    let zip = raw_zip(&[(
        ".env",
        64 << 20,
        crc32(env.as_bytes()),
        &stored_deflate(env.as_bytes()),
    )]);
    write(dir.path(), "liar.zip", zip);
    let (code, found, stderr) = run(scan(dir.path()).args([".", "--max-file-size", "1M"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(loc(&found[0]).0, "liar.zip!.env", "{stderr}");
}

#[test]
fn encoded_keyword_deeper_than_the_depth_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let inner = STANDARD.encode(format!("OPENAI_API_KEY={key}\n"));
    let outer = STANDARD.encode(format!("token: {inner}\n"));
    write(dir.path(), "k8s.yaml", format!("data:\n  blob: {outer}\n"));
    let out = scan(dir.path())
        .args([".", "--max-decode-depth", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        json_summary(&out.stdout)["incomplete"],
        json!([{"what": "k8s.yaml", "reason": {"kind": "depth_limit", "depth": 1}}])
    );
    assert!(
        stderr.contains("incomplete: k8s.yaml: nested deeper than --max-decode-depth (1)"),
        "{stderr}"
    );
    let (code, found, _) = run(scan(dir.path()).arg("."));
    assert_eq!(code, 1);
    assert_eq!(found[0]["decoded"], "base64 > base64");
}
