//! `keyhound git --staged [REPO]`: the pre-commit check. Scans what the next commit adds (the
//! index compared with HEAD) and, when it finds a key, says what to do about it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use git2::Repository;
use keyhound::report::Format;
use keyhound::source::staged;

use super::GitArgs;
use crate::config::Base;
use crate::exit::EXIT_ERROR;
use crate::run::{Configured, Outcome, Run};

/// Runs the staged scan.
pub fn run(args: GitArgs, run: Run) -> anyhow::Result<i32> {
    // The objects read here were written by git moments ago; checking their hashes again and
    // caching them buys nothing for a read-once scan.
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
    let repo = open(args.repo.as_deref())?;
    if repo.is_bare() {
        anyhow::bail!(
            "{}: a bare repository has no index, so nothing is staged; run `keyhound git --staged` in a work tree",
            repo.path().display()
        );
    }
    let root = repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf();
    let mut opts = staged::StagedOptions::default();
    opts.index_file = index_file();
    opts.threads = args.common.threads;
    opts.method = method()?;
    // Building the scanner (parsing the rules, the keyword automaton) takes as long as reading
    // the index and comparing it with HEAD: do both at once.
    let (scanner, changes) = std::thread::scope(|s| {
        let scanner = s.spawn(|| {
            run.setup().configure(&Base::WorkTree(&root)).and_then(
                |Configured { scanner, used }| Ok((scanner.with_paths(args.path_filter()?), used)),
            )
        });
        let changes = staged::changes(&repo, &opts);
        let scanner = scanner
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scanner, changes)
    });
    let ((scanner, used), changes) = (scanner?, changes?);
    let result = staged::scan_changes(&scanner, &repo, changes, opts.threads)?;
    let blocking = run.blocking(&result.findings);
    let scanned = (result.findings, result.stats, result.explanations);
    let code = run.finish(Outcome::new(&run, &scanner, scanned, used, "staged files"))?;
    if blocking > 0 && code != EXIT_ERROR && run.format() == Format::Human {
        let framework = std::env::var_os("PRE_COMMIT").is_some_and(|v| v == "1");
        eprint!("{}", advice(blocking, framework));
    }
    // The process ends now: unmapping packs and freeing rules one by one would only add time.
    std::mem::forget(scanner);
    std::mem::forget(repo);
    Ok(code)
}

/// The repository: REPO (or one of its subdirectories), else the one git's environment names
/// (`GIT_DIR`, set in hooks) or that holds the current directory.
fn open(repo: Option<&Path>) -> anyhow::Result<Repository> {
    match repo {
        Some(p) => Repository::discover(p)
            .with_context(|| format!("{}: not in a git repository", p.display())),
        None => Repository::open_from_env()
            .or_else(|_| Repository::discover("."))
            .context("not in a git repository (give REPO, or run inside one)"),
    }
}

/// `GIT_INDEX_FILE`, which git sets for `git commit -a` and `git commit PATH…` to a temporary
/// index: that index, not `.git/index`, is what the commit will contain.
fn index_file() -> Option<PathBuf> {
    let v = std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty())?;
    let p = PathBuf::from(v);
    Some(if p.is_absolute() {
        p
    } else {
        std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
    })
}

/// `KEYHOUND_STAGED_DIFF` (auto, index, libgit2, git) forces one way of comparing HEAD with
/// the index, for benchmarks and tests of the fallbacks; not a user option.
fn method() -> anyhow::Result<staged::DiffMethod> {
    match std::env::var("KEYHOUND_STAGED_DIFF") {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|e: String| anyhow::anyhow!("KEYHOUND_STAGED_DIFF: {e}")),
        _ => Ok(staged::DiffMethod::Auto),
    }
}

/// What to do when the commit is blocked. Under the pre-commit framework (it sets
/// `PRE_COMMIT=1`), `SKIP=` skips this check alone where `--no-verify` would skip every hook.
fn advice(n: usize, framework: bool) -> String {
    let what = if n == 1 {
        "a secret".to_string()
    } else {
        format!("{n} secrets")
    };
    let skip = if framework {
        "`SKIP=keyhound git commit` skips this check"
    } else {
        "`git commit --no-verify` skips this check"
    };
    format!(
        "keyhound: this commit would add {what}. What to do:\n\
         \x20 1. Take the key out of the file (or unstage it: `git restore --staged FILE`) and load it\n\
         \x20    from an environment variable or a secrets manager instead.\n\
         \x20 2. If the key was ever pushed or shared, treat it as leaked: revoke it at the provider\n\
         \x20    and rotate it. Deleting it from the file does not make it secret again.\n\
         \x20 3. A false positive? Put `keyhound:allow` in a comment on that line.\n\
         \x20 4. Only as a last resort: {skip}.\n"
    )
}
