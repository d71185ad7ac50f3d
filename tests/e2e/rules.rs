//! End-to-end tests: `keyhound rules list|check`.

use crate::util::*;
use predicates::prelude::*;

#[test]
fn list_json_has_id_description_keywords() {
    let out = keyhound()
        .args(["rules", "list", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rules = v.as_array().unwrap();
    assert!(rules.len() > 20);
    for r in rules {
        assert!(
            r["id"].is_string() && r["description"].is_string() && r["keywords"].is_array(),
            "{r}"
        );
    }
    assert!(rules.iter().any(|r| r["id"] == "openai-project-key"));
}

#[test]
fn check_builtin_passes() {
    keyhound()
        .args(["rules", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 example failures"));
}

#[test]
fn check_fails_on_bad_example() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "r.toml",
        "[[rules]]\nid=\"mine\"\ndescription=\"d\"\nregex=\"zz_[0-9]{8}\"\nkeywords=[\"zz_\"]\nexamples=[\"zz_{digits:8}\"]\nnegative_examples=[\"zz_{digits:9}\"]\n",
    );
    keyhound()
        .args(["rules", "check", "r.toml"])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "rule `mine`: negative example yields a finding",
        ));
    write(
        dir.path(),
        "bad.toml",
        "[[rules]]\nid=\"b\"\ndescription=\"d\"\nregex=\"[\"\nkeywords=[\"x\"]\n",
    );
    keyhound()
        .args(["rules", "check", "bad.toml"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("bad.toml")
                .and(predicate::str::contains("`b`"))
                .and(predicate::str::contains("`regex`")),
        );
}

/// `keyhound rules list | head`: the reader goes away; keyhound ends quietly, no panic.
#[test]
fn a_closed_pipe_ends_rules_list_quietly() {
    for format in ["human", "json"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
            .args(["rules", "list", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn check_names_a_placeholder_too_large_to_expand() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "huge.toml",
        "[[rules]]\nid=\"rep\"\ndescription=\"d\"\nregex=\"x+\"\nkeywords=[\"x\"]\n\
         examples=[\"{rep:x:18446744073709551615}\"]\n\
         [[rules]]\nid=\"alnum\"\ndescription=\"d\"\nregex=\"y[a-z]+\"\nkeywords=[\"y\"]\n\
         examples=[\"y{lower:4}\"]\nnegative_examples=[\"{alnum:4000000000}\"]\n",
    );
    // It panicked (capacity overflow, exit 101) or aborted (out of memory) before.
    keyhound()
        .args(["rules", "check", "huge.toml"])
        .current_dir(dir.path())
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(
                "FAIL rule `rep`: placeholder `{rep:x:18446744073709551615}` asks for \
                 18446744073709551615 characters; an example may hold at most 1048576 (1 MiB) \
                 (seed 1, example \"{rep:x:18446744073709551615}\")",
            )
            .and(predicate::str::contains(
                "FAIL rule `alnum`: placeholder `{alnum:4000000000}` asks for 4000000000",
            ))
            .and(predicate::str::contains("2 example failures")),
        );
}
