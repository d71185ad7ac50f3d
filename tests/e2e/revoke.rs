//! `keyhound revoke`: GitHub tokens found in files go, after a listing and a yes, to the
//! revocation endpoint; here a stand-in on 127.0.0.1 (no test contacts GitHub).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::util::*;

/// A classic personal access token whose checksum holds.
fn ghp() -> String {
    let body = random(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        30,
    );
    let check = base62_6(crc32fast::hash(body.as_bytes()));
    [&["gh", "p_"].concat(), body.as_str(), check.as_str()].concat()
}

/// (method, target, headers, body) of each request; answers `status`.
type Seen = Arc<Mutex<Vec<(String, String, Vec<String>, String)>>>;

fn stand_in(status: u16) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, target) = (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            );
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((n, v)) = h.split_once(':') {
                    if n.trim().eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                headers.push(h.trim().to_string());
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push((
                method,
                target,
                headers,
                String::from_utf8_lossy(&body).into_owned(),
            ));
            let mut s = &stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status} Canned\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, seen)
}

#[test]
fn revoke_lists_asks_and_sends_only_github_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (ghp(), ghp());
    write(
        dir.path(),
        "a.env",
        format!("GH={a}\n{}", key_line(&openai_project_key())),
    );
    write(dir.path(), "b.txt", format!("token {b}\nagain {a}\n"));
    let (url, seen) = stand_in(202);

    // Without --yes and without a terminal, nothing is sent.
    let out = keyhound_in(dir.path())
        .args(["revoke", "a.env", "b.txt"])
        .env("KEYHOUND_TEST_PROVIDER_URL", &url)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("2 GitHub token(s) would go to api.github.com")
            && said.contains("pass --yes"),
        "{said}"
    );
    assert!(
        !said.contains(&a) && !said.contains(&b),
        "tokens shown unredacted: {said}"
    );
    assert!(seen.lock().unwrap().is_empty());

    let out = keyhound_in(dir.path())
        .args(["revoke", "a.env", "b.txt", "--yes"])
        .env("KEYHOUND_TEST_PROVIDER_URL", &url)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("2 token(s) accepted for revocation"),
        "{said}"
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let (method, target, headers, body) = &requests[0];
    assert_eq!(
        (method.as_str(), target.as_str()),
        ("POST", "/credentials/revoke")
    );
    assert!(
        !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("authorization")),
        "{headers:?}"
    );
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["credentials"], serde_json::json!([a, b]));
}

#[test]
fn a_refusal_is_said_and_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", format!("GH={}\n", ghp()));
    let (url, _seen) = stand_in(422);
    let out = keyhound_in(dir.path())
        .args(["revoke", "a.env", "-y"])
        .env("KEYHOUND_TEST_PROVIDER_URL", &url)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("not revoked") && said.contains("60 requests"),
        "{said}"
    );
}
