//! `--purge-plan FILE`: writes the `git filter-repo --replace-text` file for the reported
//! findings and prints, on stderr, the whole procedure: a rewrite alone does not un-leak a key.

use std::path::Path;

use keyhound::finding::Finding;
use keyhound::report::printable;

/// Writes the plan for the findings a report shows (fixtures only with `show_fixtures`) and
/// prints what to do with it.
pub fn write_plan(path: &Path, findings: &[Finding], show_fixtures: bool) -> anyhow::Result<()> {
    let all: Vec<&Finding> = findings
        .iter()
        .filter(|f| show_fixtures || f.fixture.is_none())
        .collect();
    // A secret found inside encoded text (base64...) is not in the file as such: replacing
    // it would change nothing.
    let (shown, encoded): (Vec<&Finding>, Vec<&Finding>) =
        all.into_iter().partition(|f| f.decoded.is_none());
    for f in &encoded {
        let l = f.location();
        eprintln!(
            "keyhound: purge plan: {}:{}: the {} secret was found decoded ({}), so the plan cannot replace it: remove that text by hand",
            printable(&l.path),
            l.line,
            f.rule_id,
            printable(f.decoded.as_deref().unwrap_or(""))
        );
    }
    let (text, n) = keyhound::purge::replace_text(shown.iter().map(|f| f.secret.as_str()));
    keyhound::atomic::write(path, text.as_bytes())?;
    // The temporary file is created 0600 already; say so explicitly, whatever the umask.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let plan = shell_quote(&abs.display().to_string());
    let mut rotate: Vec<(String, Option<String>)> = Vec::new();
    for f in &shown {
        if !rotate.iter().any(|(id, _)| id == &f.rule_id) {
            rotate.push((f.rule_id.clone(), f.revoke_url.clone()));
        }
    }
    let mut msg = format!(
        "keyhound: wrote {}: {n} secret(s) to replace with {}.\n\
         keyhound: the file holds the secrets themselves (mode 0600): keep it out of the repository and off shared disks, and delete it when done.\n",
        abs.display(),
        keyhound::purge::REPLACEMENT
    );
    if n == 0 {
        msg += "keyhound: nothing to purge.\n";
        eprint!("{msg}");
        return Ok(());
    }
    msg += "To purge them from history (git filter-repo, https://github.com/newren/git-filter-repo):\n\
         \x20 1. Rotate every key first: rewriting history does not un-leak a key that was pushed, cloned or cached.\n";
    for (id, url) in &rotate {
        match url {
            Some(u) => msg += &format!("       {id}: {}\n", printable(u)),
            None => msg += &format!("       {id}: revoke it with the service that issued it\n"),
        }
    }
    msg += &format!(
        "\x20 2. Rewrite a fresh clone (filter-repo refuses to rewrite a used one, and removes its origin remote):\n\
         \x20      git clone --mirror URL purge.git && cd purge.git\n\
         \x20      git filter-repo --replace-text {plan}\n\
         \x20 3. Check the rewrite: keyhound git .   (should report none of these secrets)\n\
         \x20 4. Force-push every rewritten branch and tag:\n\
         \x20      git remote add origin URL\n\
         \x20      git push --force --all origin && git push --force --tags origin\n\
         \x20 5. Ask the host to drop cached views and pull-request refs that still hold the old commits\n\
         \x20    (GitHub: contact GitHub Support, see \"Removing sensitive data from a repository\"; GitLab: \"Remove blobs\" and housekeeping).\n\
         \x20 6. Everyone with a clone re-clones (an old clone still holds the secrets), then delete {plan}.\n"
    );
    eprint!("{msg}");
    Ok(())
}

/// `'...'` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
