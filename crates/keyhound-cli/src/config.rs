//! Finding a run's configuration: the rules (built-in, extended by a config file), the ignore
//! file and the baseline, and who provided each.
//!
//! Files the user names (`--config`, `--ignore-file`, `--baseline`) are the user's own. Files
//! found in the scanned tree come with the content and are written by whoever wrote it, so
//! they are untrusted: they may add rules and suppress findings (the summary names each and
//! says what it removed), but their verify blocks are dropped unless the user passes
//! `--trust-repo-config`, and `--no-repo-config` ignores them. In range mode they are read
//! from the range's base revision, so a change cannot bless itself.

use std::path::{Path, PathBuf};

use anyhow::Context;
use git2::{Oid, Repository};
use keyhound::baseline::{Baseline, DEFAULT_FILE};
use keyhound::report::{ConfigFrom, ConfigKind, ConfigUsed};
use keyhound::rules::gitleaks;
use keyhound::rules::syntax::RuleFile;
use keyhound::rules::{ConfigTrust, ConfigWarning, RuleSet, VerifyIgnored};
use keyhound::scan::Removed;
use keyhound::suppress::{IgnoredLocation, Suppressions};

/// The config file found at a scanned root.
pub const CONFIG_FILE: &str = ".keyhound.toml";
/// The ignore file found at a scanned root.
pub const IGNORE_FILE: &str = ".keyhoundignore";
/// gitleaks' and betterleaks' config files, read at a scanned root that has no
/// [`CONFIG_FILE`], in this order.
pub const GITLEAKS_FILES: &[&str] = &[".gitleaks.toml", ".betterleaks.toml"];
/// gitleaks' ignore file (`commit:file:rule:line` and `file:rule:line` fingerprints), read
/// beside `.keyhoundignore`.
pub const GITLEAKS_IGNORE: &str = ".gitleaksignore";
/// The environment variable naming gitleaks' config file (read after [`CONFIG_FILE`]).
pub const GITLEAKS_ENV: &str = "GITLEAKS_CONFIG";

/// The largest config, ignore or baseline file read from a repository's history.
const MAX_CONFIG_BYTES: usize = 8 << 20;

/// Where a run's configuration comes from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Config file adding rules and allowlists (default: `.keyhound.toml` at the scanned root).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore file of fingerprints and path globs (default: `.keyhoundignore` at the root).
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Baseline of accepted findings (default: `.keyhound-baseline.json` at the root).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Do not read the scanned repository's own `.keyhound.toml`, `.keyhoundignore` and
    /// baseline (files named with --config, --ignore-file and --baseline still apply).
    #[arg(long)]
    pub no_repo_config: bool,
    /// Use the verify blocks of the scanned repository's own `.keyhound.toml` (by default
    /// they are ignored: the scanned content may not choose where secrets are sent).
    #[arg(long)]
    pub trust_repo_config: bool,
}

/// Where the repository's own files are read from.
pub enum Base<'r> {
    /// A directory on disk: a scanned root (files named as `root/.keyhound.toml`).
    Dir(&'r Path),
    /// A repository's work tree (files named from the repository's root: `.keyhound.toml`).
    WorkTree(&'r Path),
    /// A commit of a repository (the base of a range): its tree, not the work tree.
    Revision {
        /// The repository.
        repo: &'r Repository,
        /// The commit.
        commit: Oid,
        /// How to name it (`origin/main`).
        label: String,
    },
}

/// A run's configuration.
pub struct Discovered {
    /// The rules in force.
    pub rules: RuleSet,
    /// Fingerprints and path globs of the ignore file and the baseline.
    pub suppressions: Suppressions,
    /// Every file used, for the summary.
    pub used: Vec<ConfigUsed>,
}

/// Fills in what each file in `used` removed, from the counts of a scan made with them.
pub fn count_removed(used: &mut [ConfigUsed], removed: &Removed) {
    for u in used {
        u.removed = match u.kind {
            ConfigKind::Config => removed.config_allowlist + removed.config_paths,
            ConfigKind::IgnoreFile => removed.ignore_fingerprints + removed.ignore_paths,
            ConfigKind::Baseline => removed.baseline,
        };
    }
}

/// One of the repository's own files, if present: its text and how to name it.
pub struct Found {
    /// Its text.
    pub text: String,
    /// How to name it.
    pub path: String,
    /// Who provided it.
    pub from: ConfigFrom,
}

/// Reads a config, ignore or baseline file: a regular file of bounded size (see
/// [`keyhound::bounded::read_settings_file`]: `.keyhoundignore -> /dev/zero` must not hang or
/// fill memory).
fn read_small_file(path: &Path) -> anyhow::Result<String> {
    Ok(keyhound::bounded::read_settings_file(path)?)
}

fn find(base: &Base<'_>, name: &str) -> anyhow::Result<Option<Found>> {
    match base {
        Base::Dir(dir) | Base::WorkTree(dir) => {
            let path = dir.join(name);
            if std::fs::symlink_metadata(&path).is_err() {
                return Ok(None);
            }
            let text = read_small_file(&path)?;
            let shown = match base {
                Base::WorkTree(_) => name.to_string(),
                _ => {
                    let p = path.display().to_string();
                    p.strip_prefix("./").map(str::to_string).unwrap_or(p)
                }
            };
            Ok(Some(Found {
                text,
                path: shown,
                from: ConfigFrom::Repository,
            }))
        }
        Base::Revision {
            repo,
            commit,
            label,
        } => {
            let tree = repo
                .find_commit(*commit)
                .and_then(|c| c.tree())
                .with_context(|| format!("reading the tree of {label}"))?;
            let entry = match tree.get_path(Path::new(name)) {
                Ok(e) => e,
                Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
                Err(e) => return Err(e).with_context(|| format!("reading {label}:{name}")),
            };
            let blob = repo
                .find_blob(entry.id())
                .with_context(|| format!("{label}:{name} is not a file"))?;
            if blob.size() > MAX_CONFIG_BYTES {
                anyhow::bail!(
                    "{label}:{name}: {} bytes is too large for a keyhound file (at most {MAX_CONFIG_BYTES})",
                    blob.size()
                );
            }
            let text = String::from_utf8(blob.content().to_vec())
                .with_context(|| format!("{label}:{name} is not UTF-8 text"))?;
            Ok(Some(Found {
                text,
                path: name.to_string(),
                from: ConfigFrom::Revision(label.clone()),
            }))
        }
    }
}

pub fn given(path: &Path, what: &str) -> anyhow::Result<Found> {
    let text = read_small_file(path).with_context(|| format!("reading {what}"))?;
    Ok(Found {
        text,
        path: path.display().to_string(),
        from: ConfigFrom::User,
    })
}

/// The repository's own files whose text in `dir` differs from `base`'s (present in one and
/// not the other, or different), when they are not overridden by given files.
pub fn changed_since(
    args: &ConfigArgs,
    base: &Base<'_>,
    dir: &Path,
) -> anyhow::Result<Vec<String>> {
    if args.no_repo_config {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut names = vec![
        (CONFIG_FILE, &args.config),
        (IGNORE_FILE, &args.ignore_file),
        (DEFAULT_FILE, &args.baseline),
    ];
    names.extend(GITLEAKS_FILES.iter().map(|n| (*n, &args.config)));
    names.push((GITLEAKS_IGNORE, &None));
    for (name, given) in names {
        if given.is_some() {
            continue;
        }
        let there = find(base, name)?.map(|f| f.text);
        let here = find(&Base::Dir(dir), name).ok().flatten().map(|f| f.text);
        if there != here {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

/// Finds the configuration: given files first, else the repository's own (unless
/// `no_repo_config`). `with_baseline: false` leaves the baseline out (`baseline create`).
pub fn discover(
    args: &ConfigArgs,
    base: &Base<'_>,
    with_baseline: bool,
) -> anyhow::Result<Discovered> {
    let own = |name: &str| -> anyhow::Result<Option<Found>> {
        if args.no_repo_config {
            Ok(None)
        } else {
            find(base, name)
        }
    };
    let mut used = Vec::new();
    let config = find_config(args, base)?;
    let rules = match config {
        None => RuleSet::builtin()?,
        Some(found) => {
            let trust = match found.from {
                ConfigFrom::User => ConfigTrust::User,
                _ if args.trust_repo_config => ConfigTrust::User,
                _ => ConfigTrust::Repository,
            };
            let mut notes = Vec::new();
            let file = if gitleaks::looks_like_gitleaks(&found.path, &found.text) {
                let imported = import(&found, base)?;
                notes = imported.notes.iter().map(|n| n.to_string()).collect();
                imported.file
            } else {
                RuleFile::parse(&found.path, &found.text)?
            };
            let rules = RuleSet::from_config(file, trust)?;
            if rules.rules().is_empty() {
                eprintln!(
                    "keyhound: warning: {}: no rule is active (the file replaces the built-in rules and adds none that load): this run cannot find anything",
                    found.path
                );
            }
            let mut u = ConfigUsed::new(ConfigKind::Config, found.path, found.from);
            u.effect = rules.config_effect().cloned();
            u.warnings = notes;
            u.warnings.extend(rules.warnings().iter().map(|w| {
                let mut s = w.to_string();
                if matches!(
                    w,
                    ConfigWarning::VerifyIgnored {
                        why: VerifyIgnored::Untrusted,
                        ..
                    }
                ) {
                    s += " (--trust-repo-config uses it)";
                }
                s
            }));
            used.push(u);
            rules
        }
    };

    let ignore = match &args.ignore_file {
        Some(p) => Some(given(p, "the ignore file")?),
        None => own(IGNORE_FILE)?,
    };
    let mut suppressions = match ignore {
        None => Suppressions::default(),
        Some(found) => {
            let s = Suppressions::parse(Path::new(&found.path), &found.text)?;
            used.push(ConfigUsed::new(
                ConfigKind::IgnoreFile,
                found.path,
                found.from,
            ));
            s
        }
    };

    if !args.no_repo_config {
        if let Some(found) = find(base, GITLEAKS_IGNORE)? {
            let prefix = match base {
                Base::Dir(d) if *d != Path::new(".") => {
                    let d = d.display().to_string();
                    let d = d
                        .strip_prefix("./")
                        .unwrap_or(&d)
                        .trim_end_matches('/')
                        .to_string();
                    Some(d)
                }
                _ => None,
            };
            let (locations, notes) = gitleaks_ignore(&found, &rules, prefix.as_deref());
            suppressions.add_locations(locations);
            let mut u = ConfigUsed::new(ConfigKind::IgnoreFile, found.path, found.from);
            u.warnings = notes;
            used.push(u);
        }
    }

    if with_baseline {
        let baseline = match &args.baseline {
            Some(p) => Some(given(p, "the baseline")?),
            None => own(DEFAULT_FILE)?,
        };
        if let Some(found) = baseline {
            let b = Baseline::parse(Path::new(&found.path), &found.text)?;
            suppressions.add_baseline(b.keys());
            used.push(ConfigUsed::new(
                ConfigKind::Baseline,
                found.path,
                found.from,
            ));
        }
    }
    Ok(Discovered {
        rules,
        suppressions,
        used,
    })
}

/// The entries of a `.gitleaksignore` that can be mapped (their rule runs), and notes naming
/// those that cannot. `prefix` is the scanned directory as findings name it.
fn gitleaks_ignore(
    found: &Found,
    rules: &RuleSet,
    prefix: Option<&str>,
) -> (Vec<IgnoredLocation>, Vec<String>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut foreign: Vec<String> = Vec::new();
    let mut foreign_count = 0;
    for (n, line) in found.text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(mut loc) = IgnoredLocation::parse(line) else {
            notes.push(format!(
                "{}:{}: not a gitleaks fingerprint (commit:file:rule:line or file:rule:line): ignored",
                found.path,
                n + 1
            ));
            continue;
        };
        if rules.get(&loc.rule).is_none() {
            foreign_count += 1;
            if foreign.len() < 5 && !foreign.contains(&loc.rule) {
                foreign.push(loc.rule.clone());
            }
            continue;
        }
        if let Some(p) = prefix {
            loc.path = format!("{p}/{}", loc.path);
        }
        out.push(loc);
    }
    if foreign_count > 0 {
        notes.push(format!(
            "{}: {foreign_count} entr{} name rules keyhound does not run ({}), so they cannot be mapped: ignored (a keyhound fingerprint in .keyhoundignore can replace each)",
            found.path,
            if foreign_count == 1 { "y" } else { "ies" },
            foreign.join(", ")
        ));
    }
    (out, notes)
}

/// The config file in force: `--config`, else the repository's `.keyhound.toml`, else
/// [`gitleaks_fallback`].
pub fn find_config(args: &ConfigArgs, base: &Base<'_>) -> anyhow::Result<Option<Found>> {
    if let Some(p) = &args.config {
        return given(p, "the config file").map(Some);
    }
    let own = |name: &str| -> anyhow::Result<Option<Found>> {
        if args.no_repo_config {
            Ok(None)
        } else {
            find(base, name)
        }
    };
    match own(CONFIG_FILE)? {
        Some(f) => Ok(Some(f)),
        None => gitleaks_fallback(&own),
    }
}

/// With no `.keyhound.toml`: the file `GITLEAKS_CONFIG` names (the user's), else the
/// repository's `.gitleaks.toml` or `.betterleaks.toml`.
fn gitleaks_fallback(
    own: &dyn Fn(&str) -> anyhow::Result<Option<Found>>,
) -> anyhow::Result<Option<Found>> {
    if let Some(p) = std::env::var_os(GITLEAKS_ENV).filter(|p| !p.is_empty()) {
        return given(Path::new(&p), GITLEAKS_ENV).map(Some);
    }
    for name in GITLEAKS_FILES {
        if let Some(f) = own(name)? {
            return Ok(Some(f));
        }
    }
    Ok(None)
}

/// Translates a gitleaks config. Its `[extend] path` is read relative to the file's
/// directory; for a file from the scanned repository only inside the repository (no absolute
/// path, no `..`), from the same place (work tree or revision) as the file itself.
pub fn import(found: &Found, base: &Base<'_>) -> anyhow::Result<gitleaks::Imported> {
    let builtins = gitleaks::builtin_specs()?;
    let from_user = matches!(found.from, ConfigFrom::User);
    let dir = Path::new(&found.path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut load = |p: &str| -> Result<(String, String), String> {
        let rel = Path::new(p);
        if from_user {
            let path = if rel.is_absolute() {
                rel.to_path_buf()
            } else {
                dir.join(rel)
            };
            return read_small_file(&path)
                .map(|t| (path.display().to_string(), t))
                .map_err(|e| format!("{e:#}"));
        }
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(
                "a file from the scanned repository may extend only files inside it".into(),
            );
        }
        match find(base, p) {
            Ok(Some(f)) => Ok((f.path, f.text)),
            Ok(None) => Err("no such file".into()),
            Err(e) => Err(format!("{e:#}")),
        }
    };
    Ok(gitleaks::translate(
        &found.path,
        &found.text,
        &builtins,
        &mut load,
    )?)
}
