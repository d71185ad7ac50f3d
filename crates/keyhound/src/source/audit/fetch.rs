//! Clone URLs of an audit's list, cloned (or, when already cloned, fetched) into a directory
//! of bare repositories: branches, tags, and unless told not to the hosts' review refs
//! (GitHub's `refs/pull/*/head`, GitLab's `refs/merge-requests/*/head`), which a plain clone
//! leaves behind although a key pushed to a pull request is as public as one on a branch.
//! Refs the remote no longer has are removed, so that a re-audit sees the remote as it is.
//!
//! libgit2 does the fetching. This build of libgit2 has no TLS and no SSH (the workspace turns
//! off git2's default features so that keyhound needs no OpenSSL), so for `https://`, `ssh://`
//! and `user@host:path` URLs the git CLI fetches instead, with the same refspecs: it is the one
//! place the product runs git, because libgit2 here cannot.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{AutotagOption, Direction, FetchOptions, Repository};
use sha2::{Digest, Sha256};

/// Branches and tags.
const PLAIN_REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// The hosts' review refs, fetched beside branches and tags.
pub const REVIEW_REFSPECS: [&str; 2] = [
    "+refs/pull/*/head:refs/pull/*/head",
    "+refs/merge-requests/*/head:refs/merge-requests/*/head",
];

/// A clone URL brought up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetched {
    /// The bare repository it is in.
    pub path: PathBuf,
    /// Whether it was cloned now (else it was there and was fetched).
    pub cloned: bool,
}

/// Where under `clone_dir` the clone of `url` lives: a readable form of the URL and a hash of
/// it (two URLs never share a directory).
pub fn clone_path(clone_dir: &Path, url: &str) -> PathBuf {
    let readable: String = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let digest = Sha256::digest(url.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    clone_dir.join(format!("{readable}-{hash}.git"))
}

/// Clones or fetches `url` into its directory under `clone_dir`; `review_refs` adds the
/// hosts' review refs. The error is in words, naming the URL.
pub fn fetch(url: &str, clone_dir: &Path, review_refs: bool) -> Result<Fetched, String> {
    let path = clone_path(clone_dir, url);
    let cloned = !path.exists();
    std::fs::create_dir_all(clone_dir).map_err(|e| format!("{}: {e}", clone_dir.display()))?;
    let repo = if cloned {
        Repository::init_bare(&path)
    } else {
        Repository::open_bare(&path)
    }
    .map_err(|e| format!("{url}: {}: {}", path.display(), e.message()))?;
    let mut specs: Vec<&str> = PLAIN_REFSPECS.to_vec();
    if review_refs {
        specs.extend(REVIEW_REFSPECS);
    }
    let result = if needs_git_cli(url) {
        fetch_with_git(url, &path, &specs)
    } else {
        fetch_with_libgit2(&repo, url, &specs)
    };
    if let Err(e) = result {
        if cloned {
            // Leave no half clone behind for the next run to mistake for a clone.
            let _ = std::fs::remove_dir_all(&path);
        }
        return Err(format!("{url}: {e}"));
    }
    Ok(Fetched { path, cloned })
}

/// Whether this libgit2 cannot fetch `url` (no TLS, no SSH in this build).
fn needs_git_cli(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("ssh://")
        || lower.starts_with("git+ssh://")
        || (super::is_url(url) && !url.contains("://"))
}

fn fetch_with_libgit2(repo: &Repository, url: &str, specs: &[&str]) -> Result<(), String> {
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| e.message().to_string())?;
    remote
        .connect(Direction::Fetch)
        .map_err(|e| e.message().to_string())?;
    let advertised: HashSet<String> = remote
        .list()
        .map_err(|e| e.message().to_string())?
        .iter()
        .map(|h| h.name().to_string())
        .collect();
    let head = remote
        .default_branch()
        .ok()
        .and_then(|b| b.as_str().map(str::to_string));
    remote.disconnect().map_err(|e| e.message().to_string())?;
    let mut options = FetchOptions::new();
    options.download_tags(AutotagOption::None);
    remote
        .fetch(specs, Some(&mut options), None)
        .map_err(|e| e.message().to_string())?;
    prune(repo, specs, &advertised)?;
    set_head(repo, head.as_deref());
    Ok(())
}

/// The ref prefixes refspecs write to.
fn destinations<'a>(specs: &[&'a str]) -> Vec<&'a str> {
    specs
        .iter()
        .filter_map(|s| s.trim_start_matches('+').split_once(':'))
        .filter_map(|(_, dst)| dst.split('*').next())
        .collect()
}

/// Removes the local refs that `specs` do not bring from the remote as it is now: refs the
/// remote no longer has, and review refs when they are no longer wanted (the clone is
/// keyhound's own; what it audits must be what was asked for).
fn prune(repo: &Repository, specs: &[&str], advertised: &HashSet<String>) -> Result<(), String> {
    let wanted = destinations(specs);
    let mut managed = destinations(&PLAIN_REFSPECS);
    managed.extend(destinations(&REVIEW_REFSPECS));
    let refs = repo.references().map_err(|e| e.message().to_string())?;
    let mut stale = Vec::new();
    for r in refs.flatten() {
        let Some(name) = r.name() else { continue };
        if !managed.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        if !wanted.iter().any(|p| name.starts_with(p)) || !advertised.contains(name) {
            stale.push(name.to_string());
        }
    }
    for name in stale {
        if let Ok(mut r) = repo.find_reference(&name) {
            r.delete()
                .map_err(|e| format!("removing stale {name}: {}", e.message()))?;
        }
    }
    Ok(())
}

/// Points HEAD at the remote's default branch (else `main`, else `master`, else the first).
fn set_head(repo: &Repository, remote_head: Option<&str>) {
    let branches: Vec<String> = repo
        .references_glob("refs/heads/*")
        .map(|refs| {
            refs.flatten()
                .filter_map(|r| r.name().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let pick = remote_head
        .filter(|h| branches.iter().any(|b| b == h))
        .map(str::to_string)
        .or_else(|| {
            ["refs/heads/main", "refs/heads/master"]
                .iter()
                .find(|n| branches.iter().any(|b| b == *n))
                .map(|n| n.to_string())
        })
        .or_else(|| branches.first().cloned());
    if let Some(head) = pick {
        let _ = repo.set_head(&head);
    }
}

fn fetch_with_git(url: &str, path: &Path, specs: &[&str]) -> Result<(), String> {
    // Only the transports a clone URL names (never `ext::` or `fd::`, whatever the user's git
    // config allows), no prompt for credentials, and the URL after `--`.
    let out = Command::new("git")
        .args(["-c", "protocol.allow=never"])
        .args([
            "-c",
            "protocol.https.allow=always",
            "-c",
            "protocol.ssh.allow=always",
        ])
        .args([
            "-c",
            "protocol.http.allow=always",
            "-c",
            "protocol.git.allow=always",
        ])
        .arg("--git-dir")
        .arg(path)
        .args(["fetch", "--quiet", "--prune", "--no-tags", "--", url])
        .args(specs)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("git fetch: {}", err.trim()));
    }
    let repo = Repository::open_bare(path).map_err(|e| e.message().to_string())?;
    set_head(&repo, None);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_paths_are_readable_and_distinct() {
        let d = Path::new("/c");
        let a = clone_path(d, "https://example.com/org/app.git");
        assert!(
            a.to_string_lossy().starts_with("/c/example.com_org_app-"),
            "{a:?}"
        );
        assert_ne!(a, clone_path(d, "https://example.com/org/app"));
        assert!(needs_git_cli("git@example.com:org/app.git"));
        assert!(needs_git_cli("HTTPS://example.com/x"));
        assert!(!needs_git_cli("file:///srv/x.git"));
    }
}
