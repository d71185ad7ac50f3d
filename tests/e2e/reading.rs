//! End-to-end tests: what a newcomer reads in the output — which files were left out, the line
//! a secret sits on, one finding for one key.

use crate::util::*;
use base64::Engine;

#[test]
fn gitignore_applies_only_inside_a_repository_and_what_it_excluded_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    write(dir.path(), ".gitignore", ".env\nbuild/\n");
    write(dir.path(), ".env", key_line(&key));
    write(dir.path(), "build/out.txt", "nothing\n");
    write(dir.path(), "src/app.py", "print('hi')\n");
    // Not a repository: `.gitignore` means nothing, the `.env` is read.
    let out = output(
        keyhound()
            .args(["scan", "--format", "json"])
            .arg(dir.path()),
        1,
    );
    let v = json_findings(&out.stdout);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert!(v[0]["locations"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with(".env"));
    assert_eq!(json_summary(&out.stdout)["excluded_by_ignore_files"], 0);

    // A repository: `.gitignore` applies, and the summary says what it left out.
    git(dir.path(), &["init", "-q"]);
    let out = output(keyhound().arg("scan").arg(dir.path()), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 paths excluded by .gitignore") && text.contains("--no-ignore"),
        "{text}"
    );
    let out = output(
        keyhound()
            .args(["scan", "--format", "json"])
            .arg(dir.path()),
        0,
    );
    assert_eq!(json_summary(&out.stdout)["excluded_by_ignore_files"], 2);
    let out = output(
        keyhound()
            .args(["scan", "--no-ignore", "--format", "json"])
            .arg(dir.path()),
        1,
    );
    assert_eq!(json_summary(&out.stdout)["excluded_by_ignore_files"], 0);
}

#[test]
fn the_line_is_shown_with_every_secret_on_it_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let other = aws_key_id();
    write(
        dir.path(),
        "app.py",
        format!("client = OpenAI(api_key=\"{key}\", aws=\"{other}\")  # prod\n"),
    );
    let out = output(keyhound().arg("scan").arg(dir.path()), 1);
    let text = String::from_utf8_lossy(&out.stdout);
    let shown = format!("    line:        client = OpenAI(api_key=\"{}…", &key[..8]);
    assert!(text.contains(&shown), "{text}");
    assert!(text.contains("# prod"), "{text}");
    assert!(
        !text.contains(&key[..20]) && !text.contains(&other),
        "a secret shown whole: {text}"
    );

    let out = output(
        keyhound()
            .args(["scan", "--format", "json"])
            .arg(dir.path()),
        1,
    );
    let v = json_findings(&out.stdout);
    for f in v.as_array().unwrap() {
        let line = f["line"].as_str().unwrap();
        assert!(
            line.contains("\", aws=\"") && line.ends_with("# prod"),
            "{line}"
        );
        assert!(
            !line.contains(&key[..20]) && !line.contains(&other),
            "{line}"
        );
    }
    let out = output(
        keyhound()
            .args(["scan", "--format", "json", "--no-redact"])
            .arg(dir.path()),
        1,
    );
    let v = json_findings(&out.stdout);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["line"].as_str().unwrap().contains(&key)));
}

#[test]
fn a_decoded_key_owns_the_encoded_text_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_project_key();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    write(
        dir.path(),
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: openai\ndata:\n  api_key: {encoded}\n"
        ),
    );
    let out = output(
        keyhound()
            .args(["scan", "--format", "json"])
            .arg(dir.path()),
        1,
    );
    let v = json_findings(&out.stdout);
    let rules: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["openai-project-key"], "{v}");
    assert_eq!(v[0]["decoded"], "base64");
    // The line shown is the file's own, the encoded text redacted.
    let line = v[0]["line"].as_str().unwrap();
    assert!(
        line.starts_with("  api_key: ") && !line.contains(&encoded[..20]),
        "{line}"
    );
}

#[test]
fn a_report_can_go_to_the_null_device() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", key_line(&openai_project_key()));
    let out = output(
        keyhound()
            .args(["scan", "--format", "json", "-o", "/dev/null"])
            .arg(dir.path()),
        1,
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
