//! keyhound's hooks under the pre-commit framework (https://pre-commit.com, from PyPI), run
//! offline against a local stand-in for keyhound's repository: in a real `git commit`, and by
//! hand (`pre-commit run --all-files`, `--files`, `--from-ref/--to-ref`). Skipped, with a
//! notice, when `pre-commit` is not installed.

use std::path::Path;
use std::process::{Command, Output};

use super::*;
use crate::util::*;

/// A repository that uses keyhound's hooks through the framework.
struct Framework {
    /// The stand-in for keyhound's repository (kept for the framework to clone).
    _hooks_repo: tempfile::TempDir,
    /// The repository under test.
    dir: tempfile::TempDir,
    /// PRE_COMMIT_HOME: the framework's clones, kept out of the user's home.
    cache: tempfile::TempDir,
    path: String,
}

fn have_pre_commit() -> bool {
    let found = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("NOTICE: `pre-commit` is not installed (pip install pre-commit); test skipped");
    }
    found
}

impl Framework {
    /// The stand-in holds the hook definitions and scripts of this tree; with `built`, the
    /// binary under test is where hooks/from-source looks for its build. The repository under
    /// test lists `hooks` and has `pre-commit install` done.
    fn new(hooks: &[&str], built: bool) -> Framework {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let bin = assert_cmd::cargo::cargo_bin("keyhound");
        let hooks_repo = init_repo();
        let h = hooks_repo.path();
        for file in [
            ".pre-commit-hooks.yaml",
            "hooks/from-source",
            "hooks/pre-commit-framework",
        ] {
            write(h, file, std::fs::read(root.join(file)).unwrap());
        }
        if built {
            std::fs::create_dir_all(h.join("target/release")).unwrap();
            std::os::unix::fs::symlink(&bin, h.join("target/release/keyhound")).unwrap();
        }
        git(h, &["add", "-A"]);
        for script in ["hooks/from-source", "hooks/pre-commit-framework"] {
            git(h, &["update-index", "--chmod=+x", script]);
        }
        git(h, &["commit", "-q", "-m", "hooks"]);
        let rev = git(h, &["rev-parse", "HEAD"]);

        let dir = init_repo();
        let d = dir.path();
        let mut config = format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n",
            h.display(),
            rev.trim()
        );
        for hook in hooks {
            config += &format!("      - id: {hook}\n");
        }
        write(d, ".pre-commit-config.yaml", config);
        let fw = Framework {
            _hooks_repo: hooks_repo,
            dir,
            cache: tempfile::tempdir().unwrap(),
            path: keyhound_on_path(),
        };
        let out = fw.pre_commit(&["install"]);
        assert!(out.status.success(), "{}", text(&out));
        fw
    }

    fn d(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("PRE_COMMIT_HOME", self.cache.path().to_str().unwrap()),
            ("PATH", self.path.as_str()),
        ]
    }

    /// `pre-commit ARGS` in the repository, in [`git`]'s environment.
    fn pre_commit(&self, args: &[&str]) -> Output {
        Command::new("pre-commit")
            .args(args)
            .current_dir(self.d())
            .envs(self.env())
            .env("HOME", self.d())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_DIR")
            .env_remove("PRE_COMMIT")
            .output()
            .unwrap()
    }

    fn commit(&self, args: &[&str]) -> Output {
        let mut all = vec!["commit", "-m", "change"];
        all.extend_from_slice(args);
        git_output(self.d(), &all, &self.env())
    }
}

#[test]
fn pre_commit_framework_runs_both_hooks() {
    if !have_pre_commit() {
        return;
    }
    let fw = Framework::new(&["keyhound", "keyhound-system"], true);
    let d = fw.d();
    git(d, &["add", "-A"]);
    let out = fw.commit(&[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.matches("Passed").count() >= 2, "both hooks ran: {t}");

    write(d, "settings.env", key_line(&openai_project_key()));
    git(d, &["add", "-A"]);
    let before = head(d);
    let out = fw.commit(&[]);
    assert_blocked(d, &out, before.as_deref());
    let t = text(&out);
    assert_eq!(
        t.matches("settings.env:1:16: openai-project-key").count(),
        2,
        "{t}"
    );
    assert!(t.contains("Failed"), "{t}");
    // The way out names the framework's own switch, which skips this check alone.
    assert!(t.contains("SKIP=keyhound git commit"), "{t}");
    assert!(!t.contains("--no-verify"), "{t}");
    let mut env = fw.env().to_vec();
    env.push(("SKIP", "keyhound"));
    let out = git_output(d, &["commit", "-m", "key"], &env);
    assert!(
        out.status.success(),
        "SKIP=keyhound skips both (keyhound-system by its alias): {}",
        text(&out)
    );
}

#[test]
fn pre_commit_framework_run_by_hand_scans_what_the_run_names() {
    if !have_pre_commit() {
        return;
    }
    let fw = Framework::new(&["keyhound", "keyhound-system"], true);
    let d = fw.d();
    git(d, &["add", "-A"]);
    assert!(fw.commit(&[]).status.success());
    // A key that got in past the hook, then a clean commit on top.
    write(d, "settings.env", key_line(&openai_project_key()));
    git(d, &["add", "settings.env"]);
    assert!(fw.commit(&["--no-verify"]).status.success());
    let with_key = head(d).unwrap();
    write(d, "clean.txt", "nothing secret\n");
    git(d, &["add", "clean.txt"]);
    assert!(fw.commit(&[]).status.success());

    let failed = |args: &[&str]| {
        let out = fw.pre_commit(args);
        let t = text(&out);
        assert!(!out.status.success(), "{args:?} must fail: {t}");
        assert_eq!(t.matches("Failed").count(), 2, "{args:?}: {t}");
        assert_eq!(
            t.matches("settings.env:1:16: openai-project-key").count(),
            2,
            "{args:?}: {t}"
        );
    };
    let passed = |args: &[&str]| {
        let out = fw.pre_commit(args);
        let t = text(&out);
        assert!(out.status.success(), "{args:?} must pass: {t}");
        assert_eq!(t.matches("Passed").count(), 2, "{args:?}: {t}");
    };
    failed(&["run", "--all-files"]);
    failed(&["run", "--files", "settings.env", "clean.txt"]);
    passed(&["run", "--files", "clean.txt"]);
    let parent = format!("{with_key}~1");
    failed(&["run", "--from-ref", &parent, "--to-ref", &with_key]);
    passed(&["run", "--from-ref", &with_key, "--to-ref", "HEAD"]);
    // Nothing staged, outside a commit: nothing to check.
    passed(&["run"]);
}

/// `script` (util-linux) gives the run a terminal, as a developer's `git commit` has.
fn have_script() -> bool {
    let found = Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("NOTICE: `script` (util-linux) is not installed; test skipped");
    }
    found
}

#[test]
fn from_source_says_on_the_terminal_that_its_first_run_builds() {
    if !have_pre_commit() || !have_script() {
        return;
    }
    let fw = Framework::new(&["keyhound"], false);
    let d = fw.d();
    // A stand-in for cargo: it "builds" keyhound by linking the binary under test into place.
    let tools = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    write(
        tools.path(),
        "cargo",
        format!(
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do\n\tcase $1 in --manifest-path) shift; src=${{1%/*}} ;; esac\n\tshift\ndone\n\
             mkdir -p \"$src/target/release\" && ln -s '{}' \"$src/target/release/keyhound\"\n",
            bin.display()
        ),
    );
    let cargo = tools.path().join("cargo");
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", tools.path().display(), fw.path);
    git(d, &["add", "-A"]);
    let out = Command::new("script")
        .args(["-q", "-e", "-c", "git commit -m config", "/dev/null"])
        .current_dir(d)
        .envs(fw.env())
        .env("PATH", &path)
        .env("HOME", d)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    let said = t.find("building keyhound").unwrap_or_else(|| {
        panic!("the first run says it builds: {t}");
    });
    let passed = t.find("Passed").expect("the hook passed");
    assert!(said < passed, "said before the build, not after: {t}");
    assert!(t.contains("several minutes"), "{t}");
}
