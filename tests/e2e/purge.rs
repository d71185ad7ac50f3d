//! Undoing a leak: `--purge-plan` (its expressions file, run through the real `git filter-repo`,
//! leaves a history in which a re-audit finds nothing), revoke pages, and whether a finding was
//! pushed.

use std::process::Command;

use crate::util::*;

#[test]
fn a_purge_plan_run_through_filter_repo_leaves_nothing_to_find() {
    if Command::new("git")
        .args(["filter-repo", "--version"])
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        println!(
            "skipped: git filter-repo is not installed (python3 -m pip install git-filter-repo)"
        );
        return;
    }
    let dir = init_repo();
    let d = dir.path();
    let key = openai_project_key();
    let aws = aws_key_id();
    write(d, "app.env", key_line(&key));
    commit_all(d, "add key");
    write(d, "app.env", "OPENAI_API_KEY=from-env\n");
    write(d, "deploy/aws.txt", format!("id = {aws}\n"));
    commit_all(d, "move key out, add another");

    let plan = d.join("plan.txt");
    let out = keyhound_in(d)
        .args(["git", ".", "--purge-plan"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("holds the secrets themselves") && said.contains("mode 0600"),
        "{said}"
    );
    assert!(
        said.contains("git filter-repo --replace-text") && said.contains("--force --all"),
        "{said}"
    );
    assert!(said.contains("Rotate every key first"), "{said}");
    assert!(
        said.contains("https://platform.openai.com/api-keys"),
        "{said}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plan).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.contains(&key) && text.contains(&aws), "{text}");

    // As the printed steps say: a fresh clone, rewritten, then audited again.
    let work = tempfile::tempdir().unwrap();
    let clone = work.path().join("clone");
    git(
        work.path(),
        &["clone", "-q", "--no-local", d.to_str().unwrap(), "clone"],
    );
    let rewrite = Command::new("git")
        .args(["filter-repo", "--replace-text"])
        .arg(&plan)
        .current_dir(&clone)
        .env("HOME", work.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        rewrite.status.success(),
        "{}",
        String::from_utf8_lossy(&rewrite.stderr)
    );
    let after = keyhound_in(&clone).args(["git", "."]).output().unwrap();
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    let log = git(&clone, &["log", "--all", "-p"]);
    assert!(
        !log.contains(&key) && log.contains("***REMOVED***"),
        "{log}"
    );
}

#[test]
fn findings_name_their_revoke_page_or_say_who_revokes_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app.env", key_line(&openai_project_key()));
    // A credential with no provider to name: the generic rule has no revoke page.
    write(
        d,
        "settings.py",
        format!("API_KEY = \"{}{}\"\n", random(ALNUM, 20), random(HEX, 12)),
    );
    let out = keyhound_in(d)
        .args(["scan", ".", "--color", "never"])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("revoke at:   https://platform.openai.com/api-keys"),
        "{human}"
    );
    assert!(
        human.contains("revoke it with the service that issued it"),
        "{human}"
    );
    let out = keyhound_in(d)
        .args(["scan", ".", "--format", "json"])
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    let urls: Vec<(String, Option<String>)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["revoke_url"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert!(
        urls.contains(&(
            "openai-project-key".into(),
            Some("https://platform.openai.com/api-keys".into())
        )),
        "{urls:?}"
    );
    assert!(
        urls.iter()
            .any(|(id, u)| id == "generic-api-key" && u.is_none()),
        "{urls:?}"
    );
}

#[test]
fn history_findings_say_whether_they_were_pushed() {
    let origin = init_repo();
    let pushed_key = openai_project_key();
    write(origin.path(), "app.env", key_line(&pushed_key));
    commit_all(origin.path(), "pushed key");
    let work = tempfile::tempdir().unwrap();
    git(
        work.path(),
        &["clone", "-q", origin.path().to_str().unwrap(), "clone"],
    );
    let clone = work.path().join("clone");
    let local_key = openai_project_key();
    write(&clone, "local.env", key_line(&local_key));
    commit_all(&clone, "local key");

    let out = keyhound_in(&clone)
        .args(["git", ".", "--format", "json", "--no-redact"])
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    let pushed: Vec<(String, bool)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["secret"].as_str().unwrap().to_string(),
                f["git"]["pushed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(pushed.contains(&(pushed_key.clone(), true)), "{pushed:?}");
    assert!(pushed.contains(&(local_key.clone(), false)), "{pushed:?}");
    let human = keyhound_in(&clone)
        .args(["git", ".", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("pushed:      yes") && text.contains("rotate it now"),
        "{text}"
    );
    assert!(
        text.contains("pushed:      no, only in local commits"),
        "{text}"
    );

    // Once pushed, the local key has left the machine too.
    git(&clone, &["push", "-q", "origin", "HEAD:refs/heads/topic"]);
    git(&clone, &["fetch", "-q", "origin"]);
    let out = keyhound_in(&clone)
        .args(["git", ".", "--format", "json"])
        .output()
        .unwrap();
    let all_pushed = json_findings(&out.stdout)
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["git"]["pushed"].as_bool() == Some(true));
    assert!(all_pushed);
}
