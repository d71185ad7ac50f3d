//! `keyhound hook install|uninstall|status [REPO]`: the git hooks that run keyhound.
//!
//! The hooks' text lives in `hooks/pre-commit` and `hooks/pre-push` (POSIX sh) and is embedded
//! in the binary; installing writes it into the repository's hooks directory (`core.hooksPath`,
//! else the common git directory's `hooks/`) with the absolute path of this binary filled in.
//! A hook that was already there is never overwritten: it is renamed `NAME.keyhound-chained`
//! and keyhound's hook runs it first. Uninstalling renames it back, so the directory ends as it
//! was before (a hooks directory that install had to create is removed again when empty).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use git2::Repository;

/// Arguments of `keyhound hook`.
#[derive(Debug, clap::Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub command: HookCommand,
}

/// `hook` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum HookCommand {
    /// Install the pre-commit hook (keeping and chaining a hook that is already there).
    Install {
        /// The repository (default: the one containing the current directory).
        #[arg(value_name = "REPO")]
        repo: Option<PathBuf>,
        /// Also install a pre-push hook that scans the commits being pushed (it catches commits
        /// made with `git commit --no-verify`).
        #[arg(long)]
        pre_push: bool,
    },
    /// Remove keyhound's hooks and put back the hooks they chained.
    Uninstall {
        /// The repository (default: the one containing the current directory).
        #[arg(value_name = "REPO")]
        repo: Option<PathBuf>,
    },
    /// Say which hooks are installed and which keyhound they run.
    Status {
        /// The repository (default: the one containing the current directory).
        #[arg(value_name = "REPO")]
        repo: Option<PathBuf>,
    },
}

/// One hook keyhound can install.
struct Hook {
    name: &'static str,
    template: &'static str,
}

const PRE_COMMIT: Hook = Hook {
    name: "pre-commit",
    template: include_str!("../../../../hooks/pre-commit"),
};

const PRE_PUSH: Hook = Hook {
    name: "pre-push",
    template: include_str!("../../../../hooks/pre-push"),
};

/// Where the templates take the binary's path.
const BIN_PLACEHOLDER: &str = "'@KEYHOUND@'";
/// The line that marks a hook as keyhound's.
const MARKER: &str = "# keyhound-hook: ";
/// Added to a hook whose install created the hooks directory.
const CREATED_DIR: &str =
    "# keyhound-created-hooks-dir: uninstall removes the directory if it is left empty\n";

impl Hook {
    fn marker_line(&self) -> String {
        format!("{MARKER}{}\n", self.name)
    }

    /// The text to install, running `bin`.
    fn render(&self, bin: &str, created_dir: bool) -> String {
        let mut text = self.template.replacen(BIN_PLACEHOLDER, &sh_quote(bin), 1);
        if created_dir {
            let marker = self.marker_line();
            text = text.replacen(&marker, &format!("{marker}{CREATED_DIR}"), 1);
        }
        text
    }

    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.name)
    }

    fn chained(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.keyhound-chained", self.name))
    }
}

/// What is at a hook's path.
enum Installed {
    Nothing,
    /// keyhound's hook, with its text.
    Ours(String),
    /// Someone else's hook (a file or a symbolic link).
    Foreign,
}

fn installed(path: &Path, hook: &Hook) -> anyhow::Result<Installed> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(Installed::Nothing);
    }
    Ok(match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) if text.contains(&hook.marker_line()) => Installed::Ours(text),
            _ => Installed::Foreign,
        },
        // A dangling symbolic link, or a directory: not ours either way.
        Err(_) => Installed::Foreign,
    })
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Single-quotes `s` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The binary an installed hook runs (the inverse of [`sh_quote`] on its `keyhound=` line).
fn hook_binary(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("keyhound='"))?;
    let quoted = line.strip_prefix("keyhound=")?;
    Some(
        quoted
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .replace(r"'\''", "'"),
    )
}

/// Runs the subcommand.
pub fn run(args: HookArgs) -> anyhow::Result<i32> {
    match args.command {
        HookCommand::Install { repo, pre_push } => {
            let (repo, dir) = open(repo.as_deref())?;
            let exe = std::env::current_exe().context("finding the keyhound binary's path")?;
            let exe = exe.to_string_lossy();
            let created = !dir.exists();
            if created {
                fs::create_dir_all(&dir)
                    .with_context(|| format!("creating hooks directory {}", dir.display()))?;
            }
            let mut hooks = vec![&PRE_COMMIT];
            if pre_push {
                hooks.push(&PRE_PUSH);
            }
            for hook in hooks {
                let said = install(&dir, hook, &exe, created)?;
                println!("{}: {said}", hook.name);
            }
            if repo.is_bare() {
                println!(
                    "note: {} is a bare repository; git runs no pre-commit hook in it",
                    repo.path().display()
                );
            }
            Ok(0)
        }
        HookCommand::Uninstall { repo } => {
            let (_, dir) = open(repo.as_deref())?;
            let mut remove_dir = false;
            for hook in [&PRE_COMMIT, &PRE_PUSH] {
                let (said, created) = uninstall(&dir, hook)?;
                remove_dir |= created;
                println!("{}: {said}", hook.name);
            }
            if remove_dir && fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_none()) {
                fs::remove_dir(&dir)
                    .with_context(|| format!("removing empty hooks directory {}", dir.display()))?;
            }
            Ok(0)
        }
        HookCommand::Status { repo } => {
            let (repo, dir) = open(repo.as_deref())?;
            let configured = repo
                .config()
                .and_then(|c| c.get_path("core.hooksPath"))
                .is_ok();
            println!(
                "hooks directory: {}{}",
                dir.display(),
                if configured { " (core.hooksPath)" } else { "" }
            );
            for hook in [&PRE_COMMIT, &PRE_PUSH] {
                println!("{}: {}", hook.name, status(&dir, hook)?);
            }
            Ok(0)
        }
    }
}

/// The repository and its hooks directory: `core.hooksPath` (relative to the working tree,
/// where git runs hooks, or to the git directory of a bare repository), else the common git
/// directory's `hooks/` (shared by all worktrees) — what `git rev-parse --git-path hooks` says.
fn open(repo: Option<&Path>) -> anyhow::Result<(Repository, PathBuf)> {
    let start = repo.unwrap_or(Path::new("."));
    let repo = Repository::discover(start)
        .with_context(|| format!("{}: not in a git repository", start.display()))?;
    let configured = match repo.config().and_then(|c| c.get_path("core.hooksPath")) {
        Ok(p) => Some(p),
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => return Err(e).context("reading core.hooksPath"),
    };
    let dir = match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        None => repo.commondir().join("hooks"),
    };
    Ok((repo, dir))
}

fn install(dir: &Path, hook: &Hook, exe: &str, created_dir: bool) -> anyhow::Result<String> {
    let path = hook.path(dir);
    let chained = hook.chained(dir);
    match installed(&path, hook)? {
        Installed::Ours(old) => {
            let text = hook.render(exe, old.contains(CREATED_DIR));
            if old == text {
                return Ok(format!("already installed in {}", path.display()));
            }
            write_hook(&path, &text)?;
            Ok(format!("updated {} to run {exe}", path.display()))
        }
        Installed::Foreign => {
            if exists(&chained) {
                bail!(
                    "{} is not keyhound's hook, and {} already exists: move one of them away, then install again",
                    path.display(),
                    chained.display()
                );
            }
            fs::rename(&path, &chained)
                .with_context(|| format!("moving {} to {}", path.display(), chained.display()))?;
            write_hook(&path, &hook.render(exe, created_dir))?;
            Ok(format!(
                "installed in {}; the hook that was there is kept as {} and runs first",
                path.display(),
                chained.display()
            ))
        }
        Installed::Nothing => {
            write_hook(&path, &hook.render(exe, created_dir))?;
            Ok(format!("installed in {}", path.display()))
        }
    }
}

/// Writes an executable hook next to its final place, then renames it over: git never runs a
/// half-written hook.
fn write_hook(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.keyhound-tmp"));
    fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", tmp.display()))?;
    }
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Removes keyhound's hook and renames back the one it chained. Returns what it did and
/// whether install had created the hooks directory.
fn uninstall(dir: &Path, hook: &Hook) -> anyhow::Result<(String, bool)> {
    let path = hook.path(dir);
    let chained = hook.chained(dir);
    match installed(&path, hook)? {
        Installed::Ours(text) => {
            fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            let said = if exists(&chained) {
                fs::rename(&chained, &path).with_context(|| {
                    format!("moving {} back to {}", chained.display(), path.display())
                })?;
                format!("removed; the earlier hook is back in {}", path.display())
            } else {
                format!("removed {}", path.display())
            };
            Ok((said, text.contains(CREATED_DIR)))
        }
        Installed::Nothing if exists(&chained) => {
            // Our hook was deleted by hand: still put back the one it had kept.
            fs::rename(&chained, &path).with_context(|| {
                format!("moving {} back to {}", chained.display(), path.display())
            })?;
            Ok((
                format!("the earlier hook is back in {}", path.display()),
                false,
            ))
        }
        Installed::Nothing => Ok(("not installed".to_string(), false)),
        Installed::Foreign => Ok((
            format!(
                "not installed ({} is not keyhound's; left alone)",
                path.display()
            ),
            false,
        )),
    }
}

fn status(dir: &Path, hook: &Hook) -> anyhow::Result<String> {
    let path = hook.path(dir);
    Ok(match installed(&path, hook)? {
        Installed::Nothing => "not installed".to_string(),
        Installed::Foreign => "not installed (another hook is there)".to_string(),
        Installed::Ours(text) => {
            let mut s = "keyhound".to_string();
            match hook_binary(&text) {
                Some(bin) if Path::new(&bin).is_file() => {
                    s += &format!(", runs {bin}");
                    if hook.render(&bin, text.contains(CREATED_DIR)) != text {
                        s += " (an older hook text: `keyhound hook install` updates it)";
                    }
                }
                Some(bin) => {
                    s += &format!(", installed for {bin}, which is gone: runs `keyhound` from PATH")
                }
                None => s += ", runs `keyhound` from PATH",
            }
            if exists(&hook.chained(dir)) {
                s += &format!(
                    "; runs the earlier hook {} first",
                    hook.chained(dir).display()
                );
            }
            s
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_path_round_trips_through_the_hook_text() {
        for bin in [
            "/usr/bin/keyhound",
            "/tmp/it's here/keyhound",
            "/a b/$(x)`y`\\z",
        ] {
            let text = PRE_COMMIT.render(bin, false);
            assert_eq!(hook_binary(&text).as_deref(), Some(bin), "{text}");
            assert!(text.contains(&PRE_COMMIT.marker_line()));
        }
        let text = PRE_PUSH.render("/k", true);
        assert!(text.contains(CREATED_DIR) && text.contains(&PRE_PUSH.marker_line()));
    }

    #[test]
    fn templates_have_one_placeholder_each() {
        for hook in [&PRE_COMMIT, &PRE_PUSH] {
            assert_eq!(
                hook.template.matches(BIN_PLACEHOLDER).count(),
                1,
                "{}",
                hook.name
            );
            assert!(hook.template.starts_with("#!/bin/sh\n"), "{}", hook.name);
        }
    }
}
