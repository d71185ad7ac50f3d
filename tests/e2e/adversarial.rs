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
    let out = keyhound_in(d)
        .args(["baseline", "create"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".keyhound-baseline.json") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(!hooks.join("pre-commit").exists(), "wrote through the link");

    // `-o FILE` through a planted link: refused, the target untouched.
    let target = d.join("victim.txt");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, d.join("audit.json")).unwrap();
    let out = keyhound_in(d)
        .args(["scan", ".", "-f", "json", "-o", "audit.json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
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
    let out = keyhound_in(d)
        .args(["baseline", "create"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field `id`") && err.contains(".keyhound.toml"),
        "{err}"
    );
    assert!(!Path::new(&d.join("pwned")).exists());
    assert!(!d.join(".keyhound-baseline.json").exists());
}
