//! `keyhound hook install|uninstall|status [REPO]`: the git hooks that run keyhound.
//!
//! The hooks' text lives in `hooks/pre-commit`, `hooks/pre-merge-commit`, `hooks/pre-push` and
//! `hooks/pre-receive` (POSIX sh) and is embedded in the binary. `--pre-receive` installs only
//! the server's hook, with the server's settings (`--config`, budget, bypass, audit log)
//! written into it. Install writes them into the directory git runs
//! hooks from (`core.hooksPath`, else the common git directory's `hooks/`) with the absolute
//! path of this binary filled in, except in two layouts:
//!
//! - A hooks directory in the work tree that git tracks or would track (`.githooks`, husky 8's
//!   `.husky`) reaches every clone: the hooks written there name no path of this machine and
//!   run `keyhound` from PATH.
//! - husky 9 points `core.hooksPath` at `.husky/_`, whose generated runners find the user's
//!   script `.husky/NAME` by their own file name and are rewritten by every `husky` run:
//!   keyhound's hooks go into `.husky` as husky scripts, and chain the user's script there.
//!
//! A hook that was already there is never overwritten: it is renamed `NAME.keyhound-chained`
//! and keyhound's hook runs it first. Uninstalling renames it back, so the directory ends as it
//! was before (directories install created are removed again when left empty).
//!
//! A failed install leaves everything as it was ([`Transaction`]): every file is written to a
//! temporary name in its directory, never through a symbolic link, and renamed into place only
//! where nothing is or keyhound's own hook (a regular file) is; the renames come after all the
//! writes, and the steps made are undone when a later one fails.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

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
    /// Install the pre-commit and pre-merge-commit hooks (keeping and chaining hooks that are
    /// already there).
    Install {
        /// The repository (default: the one containing the current directory).
        #[arg(value_name = "REPO")]
        repo: Option<PathBuf>,
        /// Also install a pre-push hook that scans the commits being pushed (it catches commits
        /// made with `git commit --no-verify`).
        #[arg(long)]
        pre_push: bool,
        /// Install only the server-side pre-receive hook (in a bare repository, or a
        /// repository others push to), with the settings below written into it.
        #[arg(long, conflicts_with = "pre_push")]
        pre_receive: bool,
        /// The server's config file for the pre-receive hook (the pushed repository's own
        /// config files are never read).
        #[arg(long, value_name = "FILE", requires = "pre_receive")]
        config: Option<PathBuf>,
        /// The server's ignore file for the pre-receive hook.
        #[arg(long, value_name = "FILE", requires = "pre_receive")]
        ignore_file: Option<PathBuf>,
        /// The server's baseline for the pre-receive hook.
        #[arg(long, value_name = "FILE", requires = "pre_receive")]
        baseline: Option<PathBuf>,
        #[command(flatten)]
        server: crate::commands::git::ServerArgs,
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
    /// Only ever installed on request (`--pre-receive`): uninstall and status name it only
    /// when it or a hook it chained is there.
    on_request: bool,
}

const PRE_COMMIT: Hook = Hook {
    name: "pre-commit",
    template: include_str!("../../../../hooks/pre-commit"),
    on_request: false,
};

/// `git merge` runs this one instead of pre-commit when it commits a merge itself.
const PRE_MERGE_COMMIT: Hook = Hook {
    name: "pre-merge-commit",
    template: include_str!("../../../../hooks/pre-merge-commit"),
    on_request: false,
};

/// Scans the message of the commit being made.
const COMMIT_MSG: Hook = Hook {
    name: "commit-msg",
    template: include_str!("../../../../hooks/commit-msg"),
    on_request: false,
};

const PRE_PUSH: Hook = Hook {
    name: "pre-push",
    template: include_str!("../../../../hooks/pre-push"),
    on_request: false,
};

/// The server's hook: scans what a push adds before any ref moves.
const PRE_RECEIVE: Hook = Hook {
    name: "pre-receive",
    template: include_str!("../../../../hooks/pre-receive"),
    on_request: true,
};

/// Every hook keyhound knows, for uninstall and status.
const HOOKS: [&Hook; 5] = [
    &PRE_COMMIT,
    &PRE_MERGE_COMMIT,
    &COMMIT_MSG,
    &PRE_PUSH,
    &PRE_RECEIVE,
];

/// Where the templates take the binary's path.
const BIN_PLACEHOLDER: &str = "'@KEYHOUND@'";
/// Where the templates take whether the chained hook is a husky 9 script.
const HUSKY_PLACEHOLDER: &str = "'@HUSKY_SCRIPT@'";
/// Where the pre-receive template takes the server's options.
const SERVER_PLACEHOLDER: &str = "'@SERVER_ARGS@'";
/// The line that marks a hook as keyhound's.
const MARKER: &str = "# keyhound-hook: ";
/// Added to a hook whose install created directories: how many (the hooks directory and its
/// parents up from it).
const CREATED_DIRS: &str = "# keyhound-created-dirs: ";
const CREATED_DIRS_END: &str = " (made by install; uninstall removes them when left empty)\n";
/// What hooks installed before the count was recorded say: one directory.
const CREATED_DIR_V1: &str =
    "# keyhound-created-hooks-dir: uninstall removes the directory if it is left empty\n";

/// What a hook's text varies by: what install renders, and what an installed hook says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    /// The keyhound to run; `None`: the one on PATH.
    bin: Option<String>,
    /// The hook it chains is a husky 9 script (run with `sh -e`, executable or not).
    husky_script: bool,
    /// Directories install created: the hooks directory and `created_dirs - 1` parents.
    created_dirs: usize,
    /// The pre-receive hook's options for `keyhound git --pre-receive`, each sh-quoted.
    server_args: String,
}

impl Hook {
    fn marker_line(&self) -> String {
        format!("{MARKER}{}\n", self.name)
    }

    /// The text to install.
    fn render(&self, s: &Settings) -> String {
        let bin = sh_quote(s.bin.as_deref().unwrap_or(""));
        let husky = if s.husky_script { "'1'" } else { "''" };
        let mut text = self
            .template
            .replacen(BIN_PLACEHOLDER, &bin, 1)
            .replacen(HUSKY_PLACEHOLDER, husky, 1)
            .replacen(SERVER_PLACEHOLDER, &sh_quote(&s.server_args), 1);
        if s.created_dirs > 0 {
            let marker = self.marker_line();
            let created = format!("{marker}{CREATED_DIRS}{}{CREATED_DIRS_END}", s.created_dirs);
            text = text.replacen(&marker, &created, 1);
        }
        text
    }

    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(self.name)
    }

    fn chained(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.keyhound-chained", self.name))
    }

    /// The temporary file a new text is written to before it is renamed into place.
    fn temp(&self, dir: &Path) -> PathBuf {
        dir.join(format!(".{}.keyhound-tmp", self.name))
    }
}

/// What an installed hook's text says (the inverse of [`Hook::render`]).
fn settings(text: &str) -> Settings {
    let created_dirs = match text.lines().find_map(|l| l.strip_prefix(CREATED_DIRS)) {
        Some(rest) => rest
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
        None => usize::from(text.contains(CREATED_DIR_V1)),
    };
    Settings {
        bin: assigned(text, "keyhound").filter(|b| !b.is_empty()),
        husky_script: assigned(text, "husky_script").is_some_and(|v| !v.is_empty()),
        created_dirs,
        server_args: assigned(text, "server_args").unwrap_or_default(),
    }
}

/// The value of a `var='…'` line (the inverse of [`sh_quote`]).
fn assigned(text: &str, var: &str) -> Option<String> {
    let prefix = format!("{var}=");
    let quoted = text.lines().find_map(|l| l.strip_prefix(&prefix))?;
    Some(
        quoted
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .replace(r"'\''", "'"),
    )
}

/// Single-quotes `s` for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What is at a hook's path.
enum Installed {
    Nothing,
    /// keyhound's hook (a regular file), with its text.
    Ours(String),
    /// A symbolic link: never read, written through, or replaced.
    Link,
    /// Someone else's hook: a regular file without keyhound's marker.
    Foreign,
    /// Something that is no hook: a directory, a fifo…
    Other,
}

fn installed(path: &Path, hook: &Hook) -> anyhow::Result<Installed> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Installed::Nothing),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    if meta.file_type().is_symlink() {
        return Ok(Installed::Link);
    }
    if !meta.is_file() {
        return Ok(Installed::Other);
    }
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) if text.contains(&hook.marker_line()) => Installed::Ours(text),
        _ => Installed::Foreign,
    })
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// The husky that manages a hooks directory, found by the files it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Husky {
    /// husky 5 to 8: `core.hooksPath=.husky`, whose scripts git runs (they source
    /// `.husky/_/husky.sh`).
    V8,
    /// husky 9: `core.hooksPath=.husky/_`, generated runners (`.husky/_/NAME`, sourcing
    /// `.husky/_/h`) that run the user's script `.husky/NAME` with `sh -e`.
    V9,
}

/// Where one repository's hooks go.
struct Place {
    /// The directory git runs hooks from.
    git_dir: PathBuf,
    /// Where keyhound's hooks go: `git_dir`, except under husky 9 (its parent, `.husky`).
    dir: PathBuf,
    /// `core.hooksPath` is set.
    configured: bool,
    husky: Option<Husky>,
}

impl Place {
    /// Under husky 9, the runner that must exist for git to reach `hook` (husky before 9.1.5
    /// writes none for pre-merge-commit), when it is missing.
    fn missing_runner(&self, hook: &Hook) -> Option<PathBuf> {
        let runner = self.git_dir.join(hook.name);
        (self.husky == Some(Husky::V9) && !runner.is_file()).then_some(runner)
    }

    fn describe(&self) -> String {
        let mut s = self.git_dir.display().to_string();
        match (self.configured, self.husky) {
            (_, Some(Husky::V9)) => {
                s += &format!(
                    " (core.hooksPath; husky 9: keyhound's hooks are husky scripts in {})",
                    self.dir.display()
                )
            }
            (_, Some(Husky::V8)) => s += " (core.hooksPath; husky 8)",
            (true, None) => s += " (core.hooksPath)",
            (false, None) => {}
        }
        s
    }
}

/// Runs the subcommand.
pub fn run(args: HookArgs) -> anyhow::Result<i32> {
    match args.command {
        HookCommand::Install {
            repo,
            pre_push,
            pre_receive,
            config,
            ignore_file,
            baseline,
            server,
        } => {
            let repo = open(repo.as_deref())?;
            let place = locate(&repo)?;
            let exe = std::env::current_exe().context("finding the keyhound binary's path")?;
            let mut hooks = vec![&PRE_COMMIT, &PRE_MERGE_COMMIT, &COMMIT_MSG];
            if pre_push {
                hooks.push(&PRE_PUSH);
            }
            let mut server_args = String::new();
            if pre_receive {
                hooks = vec![&PRE_RECEIVE];
                let files = [
                    ("--config", config.as_deref()),
                    ("--ignore-file", ignore_file.as_deref()),
                    ("--baseline", baseline.as_deref()),
                ];
                server_args = server_options(&files, &server)?;
            }
            let said = install(&repo, &place, &hooks, &exe.to_string_lossy(), &server_args)
                .context("keyhound hook install changed nothing")?;
            for (hook, said) in hooks.iter().zip(said) {
                println!("{}: {said}", hook.name);
            }
            for hook in &hooks {
                if let Some(runner) = place.missing_runner(hook) {
                    println!(
                        "note: husky has no {} here, so git does not run {}: upgrade husky (9.1.5 \
                         and later write it) and run `husky` again",
                        runner.display(),
                        hook.path(&place.dir).display()
                    );
                }
            }
            if repo.is_bare() && !pre_receive {
                println!(
                    "note: {} is a bare repository; git runs no pre-commit hook in it",
                    repo.path().display()
                );
            }
            Ok(0)
        }
        HookCommand::Uninstall { repo } => {
            let repo = open(repo.as_deref())?;
            let place = locate(&repo)?;
            for (hook, said) in HOOKS.iter().zip(uninstall(&place)?) {
                if let Some(said) = said {
                    println!("{}: {said}", hook.name);
                }
            }
            Ok(0)
        }
        HookCommand::Status { repo } => {
            let repo = open(repo.as_deref())?;
            let place = locate(&repo)?;
            println!("hooks directory: {}", place.describe());
            for hook in HOOKS {
                if hook.on_request
                    && !exists(&hook.path(&place.dir))
                    && !exists(&hook.chained(&place.dir))
                {
                    continue;
                }
                println!("{}: {}", hook.name, status(&repo, &place, hook)?);
            }
            Ok(0)
        }
    }
}

/// The options the pre-receive hook passes to `keyhound git --pre-receive`, sh-quoted, with
/// paths made absolute (git runs the hook in the repository's directory).
fn server_options(
    files: &[(&str, Option<&Path>)],
    server: &crate::commands::git::ServerArgs,
) -> anyhow::Result<String> {
    let cwd = std::env::current_dir().context("finding the current directory")?;
    let absolute = |p: &Path| {
        let p = cwd.join(p);
        fs::canonicalize(&p)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut args: Vec<String> = Vec::new();
    for (flag, file) in files {
        if let Some(f) = file {
            if !f.is_file() {
                bail!("{flag} {}: no such file", f.display());
            }
            args.extend([flag.to_string(), absolute(f)]);
        }
    }
    if let Some(b) = server.budget {
        args.extend(["--budget".into(), b.to_string()]);
    }
    if let Some(p) = server.on_budget {
        let p = match p {
            crate::commands::git::BudgetPolicy::Reject => "reject",
            crate::commands::git::BudgetPolicy::Accept => "accept",
        };
        args.extend(["--on-budget".into(), p.into()]);
    }
    if server.allow_bypass {
        args.push("--allow-bypass".into());
    }
    if let Some(log) = &server.audit_log {
        args.extend(["--audit-log".into(), absolute(log)]);
    }
    Ok(args
        .iter()
        .map(|a| sh_quote(a))
        .collect::<Vec<_>>()
        .join(" "))
}

fn open(repo: Option<&Path>) -> anyhow::Result<Repository> {
    let start = repo.unwrap_or(Path::new("."));
    Repository::discover(start)
        .with_context(|| format!("{}: not in a git repository", start.display()))
}

/// The hooks directory: `core.hooksPath` (relative to the working tree, where git runs hooks,
/// or to the git directory of a bare repository), else the common git directory's `hooks/`
/// (shared by all worktrees) — what `git rev-parse --git-path hooks` says; and the husky that
/// manages it, if one does.
fn locate(repo: &Repository) -> anyhow::Result<Place> {
    let configured = match repo.config().and_then(|c| c.get_path("core.hooksPath")) {
        Ok(p) => Some(p),
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => return Err(e).context("reading core.hooksPath"),
    };
    let git_dir = match &configured {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        None => repo.commondir().join("hooks"),
    };
    let (dir, husky) = match git_dir.parent() {
        Some(parent) if git_dir.ends_with("_") && git_dir.join("h").is_file() => {
            (parent.to_path_buf(), Some(Husky::V9))
        }
        _ if git_dir.join("_").join("husky.sh").is_file() => (git_dir.clone(), Some(Husky::V8)),
        _ => (git_dir.clone(), None),
    };
    // A relative core.hooksPath names a directory in the work tree; a symbolic link on the way
    // that leads out of it (a cloned repository can hold one) must not take the hooks along.
    if let (Some(p), Some(workdir)) = (&configured, repo.workdir()) {
        if p.is_relative() && !p.components().any(|c| c == Component::ParentDir) {
            let work = canonical_prefix(workdir)?;
            for d in [&git_dir, &dir] {
                let real = canonical_prefix(d)?;
                if !real.starts_with(&work) {
                    bail!(
                        "hooks directory {} leads out of the work tree, to {}, through a symbolic \
                         link: keyhound does not write through links in a repository; set \
                         core.hooksPath to the real directory if that is meant",
                        d.display(),
                        real.display()
                    );
                }
            }
        }
    }
    Ok(Place {
        git_dir,
        dir,
        configured: configured.is_some(),
        husky,
    })
}

/// `path` with symbolic links resolved as far as it exists, and the rest appended.
fn canonical_prefix(path: &Path) -> anyhow::Result<PathBuf> {
    let mut rest = Vec::new();
    let mut p = path;
    loop {
        match fs::canonicalize(p) {
            Ok(real) => return Ok(rest.iter().rev().fold(real, |acc, c| acc.join(c))),
            Err(_) => match (p.parent(), p.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    p = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                }
                _ => bail!("{}: cannot resolve the path", path.display()),
            },
        }
    }
}

/// Whether a hook at `path` lies in the work tree where git tracks it or would track it (not
/// ignored): then every clone gets it, so it must not name this machine's binary.
fn shared(repo: &Repository, path: &Path) -> anyhow::Result<bool> {
    let Some(workdir) = repo.workdir() else {
        return Ok(false);
    };
    let work = canonical_prefix(workdir)?;
    // The directory resolved, not the hook: a hook that is a link is still where it is.
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(false);
    };
    let real = canonical_prefix(parent)?.join(name);
    let Ok(rel) = real.strip_prefix(&work) else {
        return Ok(false);
    };
    // The git directory usually sits in the work tree, but is never part of it.
    for git in [repo.path(), repo.commondir()] {
        if real.starts_with(canonical_prefix(git)?) {
            return Ok(false);
        }
    }
    let tracked = repo
        .index()
        .is_ok_and(|index| index.get_path(rel, 0).is_some());
    let ignored = repo
        .is_path_ignored(rel)
        .with_context(|| format!("asking git whether {} is ignored", rel.display()))?;
    Ok(tracked || !ignored)
}

/// What install does with one hook.
enum Action {
    /// keyhound's hook is there with the same text.
    Keep,
    /// Nothing is there.
    Write,
    /// keyhound's hook with another text (this text).
    Update(String),
    /// Someone else's hook is there: move it to the chained name.
    Chain,
}

/// Installs `hooks` into `place`, all or none. Returns what it did, per hook.
fn install(
    repo: &Repository,
    place: &Place,
    hooks: &[&Hook],
    exe: &str,
    server_args: &str,
) -> anyhow::Result<Vec<String>> {
    let missing = missing_dirs(&place.dir);
    // Decide everything before changing anything.
    let mut plan = Vec::new();
    for &hook in hooks {
        let path = hook.path(&place.dir);
        let chained = hook.chained(&place.dir);
        let shared = shared(repo, &path)?;
        let mut want = Settings {
            bin: (!shared).then(|| exe.to_string()),
            husky_script: place.husky == Some(Husky::V9),
            created_dirs: missing.len(),
            server_args: server_args.to_string(),
        };
        let action = match installed(&path, hook)? {
            Installed::Ours(old) => {
                want.created_dirs = settings(&old).created_dirs;
                if hook.render(&want) == old {
                    Action::Keep
                } else {
                    Action::Update(old)
                }
            }
            Installed::Nothing => Action::Write,
            Installed::Link if shared => bail!(
                "{} is a symbolic link in a hooks directory shared through git: keyhound does not \
                 replace links there, nor write through them; put the hook itself there (or \
                 remove the link), then install again",
                path.display()
            ),
            Installed::Foreign | Installed::Link => {
                if exists(&chained) {
                    bail!(
                        "{} is not keyhound's hook, and {} already exists: move one of them \
                         away, then install again",
                        path.display(),
                        chained.display()
                    );
                }
                Action::Chain
            }
            Installed::Other => bail!(
                "{} is not a hook (a directory or another special file): move it away, then \
                 install again",
                path.display()
            ),
        };
        let mut said = match &action {
            Action::Keep => format!("already installed in {}", path.display()),
            Action::Write => format!("installed in {}", path.display()),
            Action::Update(_) => format!(
                "updated {} to run {}",
                path.display(),
                want.bin.as_deref().unwrap_or("`keyhound` from PATH")
            ),
            Action::Chain => format!(
                "installed in {}; the hook that was there is kept as {} and runs first",
                path.display(),
                chained.display()
            ),
        };
        if shared && !matches!(action, Action::Keep) {
            said += " (a directory shared through git: the hook runs `keyhound` from PATH and \
                     names no path of this machine)";
        }
        plan.push((hook, path, chained, action, hook.render(&want), said));
    }

    let mut tx = Transaction::default();
    let done = (|| -> anyhow::Result<()> {
        for dir in &missing {
            tx.create_dir(dir)?;
        }
        for (hook, _, _, action, text, _) in &plan {
            if !matches!(action, Action::Keep) {
                tx.write_temp(&hook.temp(&place.dir), text)?;
            }
        }
        for (hook, path, chained, action, _, _) in &plan {
            let temp = hook.temp(&place.dir);
            match action {
                Action::Keep => {}
                Action::Write => tx.put(&temp, path, None)?,
                Action::Update(old) => tx.put(&temp, path, Some(old))?,
                Action::Chain => {
                    tx.rename(path, chained)?;
                    tx.put(&temp, path, None)?;
                }
            }
        }
        Ok(())
    })();
    match done {
        Ok(()) => Ok(plan.into_iter().map(|step| step.5).collect()),
        Err(e) => Err(tx.roll_back(e)),
    }
}

/// The directories that must be made for `dir` to exist, outermost first.
fn missing_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !exists(d))
        .map(Path::to_path_buf)
        .collect();
    missing.reverse();
    missing
}

/// The changes install has made so far, undone in reverse order when a later step fails.
#[derive(Default)]
struct Transaction {
    undo: Vec<Undo>,
}

enum Undo {
    RemoveDir(PathBuf),
    RemoveFile(PathBuf),
    /// Rename `from` back to `to`.
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
    /// Put back the text of a hook that was replaced.
    Restore {
        path: PathBuf,
        temp: PathBuf,
        text: String,
    },
}

impl Transaction {
    fn create_dir(&mut self, dir: &Path) -> anyhow::Result<()> {
        fs::create_dir(dir).with_context(|| format!("creating directory {}", dir.display()))?;
        self.undo.push(Undo::RemoveDir(dir.to_path_buf()));
        Ok(())
    }

    fn write_temp(&mut self, temp: &Path, text: &str) -> anyhow::Result<()> {
        write_new(temp, text)?;
        self.undo.push(Undo::RemoveFile(temp.to_path_buf()));
        Ok(())
    }

    fn rename(&mut self, from: &Path, to: &Path) -> anyhow::Result<()> {
        fs::rename(from, to)
            .with_context(|| format!("moving {} to {}", from.display(), to.display()))?;
        self.undo.push(Undo::Rename {
            from: to.to_path_buf(),
            to: from.to_path_buf(),
        });
        Ok(())
    }

    /// Renames the written `temp` to `path`, where there is nothing or the regular file whose
    /// text is `old`.
    fn put(&mut self, temp: &Path, path: &Path, old: Option<&String>) -> anyhow::Result<()> {
        match (fs::symlink_metadata(path), old) {
            (Err(e), None) if e.kind() == std::io::ErrorKind::NotFound => {}
            (Ok(meta), Some(_)) if meta.is_file() => {}
            _ => bail!(
                "{} changed while keyhound was installing (something else is there now)",
                path.display()
            ),
        }
        fs::rename(temp, path).with_context(|| format!("writing {}", path.display()))?;
        self.undo.push(match old {
            Some(text) => Undo::Restore {
                path: path.to_path_buf(),
                temp: temp.to_path_buf(),
                text: text.clone(),
            },
            None => Undo::RemoveFile(path.to_path_buf()),
        });
        Ok(())
    }

    /// Undoes every step made, latest first; `error` is why, and the result says whether
    /// anything could not be undone.
    fn roll_back(self, error: anyhow::Error) -> anyhow::Error {
        let mut failed = Vec::new();
        for undo in self.undo.into_iter().rev() {
            let result = match &undo {
                Undo::RemoveDir(dir) => fs::remove_dir(dir).map_err(|e| (dir, e.into())),
                Undo::RemoveFile(path) => match fs::remove_file(path) {
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    other => other.map_err(|e| (path, e.into())),
                },
                Undo::Rename { from, to } => fs::rename(from, to).map_err(|e| (from, e.into())),
                Undo::Restore { path, temp, text } => write_new(temp, text)
                    .and_then(|()| {
                        fs::rename(temp, path)
                            .with_context(|| format!("moving {} back", temp.display()))
                    })
                    .map_err(|e| (path, e)),
            };
            if let Err((path, e)) = result {
                failed.push(format!("{}: {e:#}", path.display()));
            }
        }
        if failed.is_empty() {
            error
        } else {
            error.context(format!(
                "and undoing the steps already made failed, fix by hand: {}",
                failed.join("; ")
            ))
        }
    }
}

/// Writes an executable file at `temp`, which must not exist but for a regular file left by an
/// interrupted install: never through a symbolic link. A file it made is gone again when it
/// fails.
fn write_new(temp: &Path, text: &str) -> anyhow::Result<()> {
    let in_the_way = || {
        anyhow::anyhow!(
            "{} is in the way: keyhound writes each hook to a temporary file of that name \
             first, and this is no regular file (a symbolic link or a directory) that it could \
             replace without writing through it; remove it, then install again",
            temp.display()
        )
    };
    match fs::symlink_metadata(temp) {
        Ok(meta) if meta.is_file() => fs::remove_file(temp)
            .with_context(|| format!("removing {}, left by an earlier run", temp.display()))?,
        Ok(_) => return Err(in_the_way()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", temp.display())),
    }
    let mut options = fs::OpenOptions::new();
    // `create_new` fails on anything at the path, a link included: nothing is written through.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o755);
    }
    let mut file = options.open(temp).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => in_the_way(),
        _ => anyhow::Error::new(e).context(format!("creating {}", temp.display())),
    })?;
    let written = file.write_all(text.as_bytes()).and_then(|()| {
        // The mode given at creation is narrowed by the umask; a hook must be executable.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o755))?;
        }
        Ok(())
    });
    if let Err(e) = written {
        drop(file);
        let _ = fs::remove_file(temp);
        return Err(e).with_context(|| format!("writing {}", temp.display()));
    }
    Ok(())
}

/// Removes keyhound's hooks, renames back the ones they chained, and removes the directories
/// install created when they are left empty. Returns what it did, per hook of [`HOOKS`]
/// (nothing for a hook installed only on request that was not there).
fn uninstall(place: &Place) -> anyhow::Result<Vec<Option<String>>> {
    let dir = &place.dir;
    let mut created = 0;
    let mut said = Vec::new();
    for hook in HOOKS {
        let path = hook.path(dir);
        let chained = hook.chained(dir);
        let absent = hook.on_request && !exists(&path) && !exists(&chained);
        let what = match installed(&path, hook)? {
            Installed::Ours(text) => {
                created = created.max(settings(&text).created_dirs);
                if exists(&chained) {
                    // One rename over keyhound's hook: at no moment is there no hook.
                    fs::rename(&chained, &path).with_context(|| {
                        format!("moving {} back to {}", chained.display(), path.display())
                    })?;
                    format!("removed; the earlier hook is back in {}", path.display())
                } else {
                    fs::remove_file(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                    format!("removed {}", path.display())
                }
            }
            Installed::Nothing if exists(&chained) => {
                // Our hook was deleted by hand: still put back the one it had kept.
                fs::rename(&chained, &path).with_context(|| {
                    format!("moving {} back to {}", chained.display(), path.display())
                })?;
                format!("the earlier hook is back in {}", path.display())
            }
            Installed::Nothing => "not installed".to_string(),
            Installed::Foreign | Installed::Link | Installed::Other => format!(
                "not installed ({} is not keyhound's; left alone)",
                path.display()
            ),
        };
        said.push((!absent).then_some(what));
    }
    let mut d = dir.as_path();
    for _ in 0..created {
        if !fs::read_dir(d).is_ok_and(|mut entries| entries.next().is_none()) {
            break;
        }
        fs::remove_dir(d).with_context(|| format!("removing empty directory {}", d.display()))?;
        match d.parent() {
            Some(parent) => d = parent,
            None => break,
        }
    }
    Ok(said)
}

fn status(repo: &Repository, place: &Place, hook: &Hook) -> anyhow::Result<String> {
    let path = hook.path(&place.dir);
    let mut s = match installed(&path, hook)? {
        Installed::Nothing => "not installed".to_string(),
        Installed::Foreign | Installed::Link | Installed::Other => {
            "not installed (another hook is there)".to_string()
        }
        Installed::Ours(text) => {
            let found = settings(&text);
            let mut s = "keyhound".to_string();
            match &found.bin {
                Some(bin) if Path::new(bin).is_file() => s += &format!(", runs {bin}"),
                Some(bin) => {
                    s += &format!(", installed for {bin}, which is gone: runs `keyhound` from PATH")
                }
                None => s += ", runs `keyhound` from PATH",
            }
            let want = Settings {
                bin: if shared(repo, &path)? {
                    None
                } else {
                    found.bin.clone()
                },
                husky_script: place.husky == Some(Husky::V9),
                created_dirs: found.created_dirs,
                server_args: found.server_args.clone(),
            };
            if hook.render(&want) != text {
                s += " (an older hook text: `keyhound hook install` updates it)";
            }
            let chained = hook.chained(&place.dir);
            if exists(&chained) {
                s += &format!("; runs the earlier hook {} first", chained.display());
            }
            s
        }
    };
    if let Some(runner) = place.missing_runner(hook) {
        s += &format!(" (husky has no {}: git does not run it)", runner.display());
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_the_hook_text() {
        for bin in [
            Some("/usr/bin/keyhound"),
            Some("/tmp/it's here/keyhound"),
            Some("/a b/$(x)`y`\\z"),
            None,
        ] {
            for hook in HOOKS {
                for (husky_script, created_dirs) in [(false, 0), (true, 0), (false, 1), (true, 3)] {
                    let want = Settings {
                        bin: bin.map(str::to_string),
                        husky_script,
                        created_dirs,
                        server_args: if hook.on_request {
                            "'--config' '/etc/it'\''s/k.toml'".to_string()
                        } else {
                            String::new()
                        },
                    };
                    let text = hook.render(&want);
                    assert_eq!(settings(&text), want, "{text}");
                    assert!(text.contains(&hook.marker_line()));
                }
            }
        }
        // A hook installed before the count of created directories was recorded.
        let old = PRE_COMMIT.template.replacen(
            &PRE_COMMIT.marker_line(),
            &format!("{}{CREATED_DIR_V1}", PRE_COMMIT.marker_line()),
            1,
        );
        assert_eq!(settings(&old).created_dirs, 1);
    }

    #[test]
    fn templates_have_one_placeholder_each() {
        for hook in HOOKS {
            for placeholder in [BIN_PLACEHOLDER, HUSKY_PLACEHOLDER] {
                assert_eq!(
                    hook.template.matches(placeholder).count(),
                    1,
                    "{} {placeholder}",
                    hook.name
                );
            }
            assert!(hook.template.starts_with("#!/bin/sh\n"), "{}", hook.name);
            assert!(hook.template.contains(&hook.marker_line()), "{}", hook.name);
            assert!(
                hook.template
                    .contains(&format!("\"${{0%/*}}/{}.keyhound-chained\"", hook.name)),
                "{} chains its own name",
                hook.name
            );
        }
    }

    #[test]
    fn a_failed_step_undoes_the_steps_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("pre-commit"), "theirs").unwrap();
        let mut tx = Transaction::default();
        tx.create_dir(&d.join("new")).unwrap();
        tx.write_temp(&d.join(".pre-commit.keyhound-tmp"), "ours")
            .unwrap();
        tx.rename(
            &d.join("pre-commit"),
            &d.join("pre-commit.keyhound-chained"),
        )
        .unwrap();
        tx.put(
            &d.join(".pre-commit.keyhound-tmp"),
            &d.join("pre-commit"),
            None,
        )
        .unwrap();
        assert_eq!(fs::read_to_string(d.join("pre-commit")).unwrap(), "ours");
        // A step that fails: its source is gone.
        let e = tx
            .rename(&d.join("missing"), &d.join("elsewhere"))
            .unwrap_err();
        let e = tx.roll_back(e);
        assert!(format!("{e:#}").contains("missing"), "{e:#}");
        let left: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["pre-commit"]);
        assert_eq!(fs::read_to_string(d.join("pre-commit")).unwrap(), "theirs");
    }

    #[test]
    fn an_update_that_fails_later_puts_the_old_text_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (path, temp) = (d.join("pre-commit"), d.join(".pre-commit.keyhound-tmp"));
        fs::write(&path, "old").unwrap();
        let mut tx = Transaction::default();
        tx.write_temp(&temp, "new").unwrap();
        tx.put(&temp, &path, Some(&"old".to_string())).unwrap();
        let e = tx.rename(&d.join("missing"), &d.join("x")).unwrap_err();
        let _ = tx.roll_back(e);
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert!(!temp.exists());
    }

    #[cfg(unix)]
    #[test]
    fn temp_files_are_never_written_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("target"), "keep").unwrap();
        std::os::unix::fs::symlink("target", d.join(".pre-commit.keyhound-tmp")).unwrap();
        let e = write_new(&d.join(".pre-commit.keyhound-tmp"), "hook").unwrap_err();
        assert!(format!("{e:#}").contains("is in the way"), "{e:#}");
        assert_eq!(fs::read_to_string(d.join("target")).unwrap(), "keep");
        // A regular file left by an interrupted install is replaced.
        fs::write(d.join(".pre-push.keyhound-tmp"), "stale").unwrap();
        write_new(&d.join(".pre-push.keyhound-tmp"), "hook").unwrap();
        assert_eq!(
            fs::read_to_string(d.join(".pre-push.keyhound-tmp")).unwrap(),
            "hook"
        );
    }
}
