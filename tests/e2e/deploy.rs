//! The deploy files, run: `deploy/github-actions-matrix.yml` and `deploy/k8s-indexed-job.yaml`
//! are parsed, and the commands they hold (the workflow's `run:` steps, the Job containers'
//! command and args) run with the real binary against real local repositories, one process
//! per matrix entry or pod index, side by side. The merged report must hold every repository's
//! findings and equal, byte for byte, a one-process `keyhound audit` of the same list.
//!
//! What cannot run here is skipped by name, and each test asserts the exact set it skipped, so
//! that a step added to a file is run or consciously skipped, never dropped unseen: steps that
//! need GitHub or the network (checkout, caches, `cargo install`, code scanning). The artifact
//! actions are played locally (a directory per artifact, executable bits dropped as GitHub
//! drops them), so the paths the jobs hand each other are checked too. Everything runs in
//! temporary directories with a cleared environment; the only URL is a `file://` one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::util::*;

fn deploy_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load(name: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&deploy_file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A scalar as the string a shell would see (`4` and `"4"` alike).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string(y: &Yaml, what: &str) -> String {
    scalar(y).unwrap_or_else(|| panic!("{what}: not a scalar: {y:?}"))
}

/// The entries of a mapping, keys as strings, in file order (empty when `y` is absent).
fn entries(y: &Yaml) -> Vec<(String, &Yaml)> {
    match y {
        Yaml::BadValue | Yaml::Null => Vec::new(),
        Yaml::Hash(h) => h
            .iter()
            .map(|(k, v)| (string(k, "a mapping key"), v))
            .collect(),
        other => panic!("not a mapping: {other:?}"),
    }
}

fn array<'a>(y: &'a Yaml, what: &str) -> &'a [Yaml] {
    y.as_vec()
        .unwrap_or_else(|| panic!("{what}: not a list: {y:?}"))
}

/// The repositories an audit runs over, made with the git CLI: forks that share blobs, a key in
/// two unrelated repositories, a key that was deleted, one only on a branch, one behind a
/// `file://` URL (cloned into `--clone-dir`), and clean ones.
struct Fleet {
    _dirs: Vec<tempfile::TempDir>,
    /// The list file's text: a comment, a blank line, then one path or URL a line.
    list: String,
    /// Each fake key and the list entries (path or URL) of the repositories that hold it.
    keys: Vec<(String, Vec<String>)>,
}

fn fleet() -> Fleet {
    let mut dirs = Vec::new();
    let mut entries = Vec::new();
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    let path = |d: &tempfile::TempDir| d.path().to_str().unwrap().to_string();

    // A key added, then another commit on top.
    let a = openai_project_key();
    let r0 = init_repo();
    write(r0.path(), "README.md", "service\n");
    commit_all(r0.path(), "init");
    write(r0.path(), ".env", key_line(&a));
    commit_all(r0.path(), "config");
    write(r0.path(), "src/main.py", "print('hi')\n");
    commit_all(r0.path(), "code");

    // A fork of it: the same objects (copied, not linked), one commit more.
    let forks = tempfile::tempdir().unwrap();
    let r1 = forks.path().join("fork");
    git(
        forks.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            r0.path().to_str().unwrap(),
            "fork",
        ],
    );
    write(&r1, "CHANGES.md", "forked\n");
    commit_all(&r1, "fork");
    keys.push((a, vec![path(&r0), r1.to_str().unwrap().to_string()]));
    entries.push(path(&r0));
    entries.push(r1.to_str().unwrap().to_string());

    // A key committed then deleted: only history holds it; the same key in another repository
    // under another path.
    let b = openai_project_key();
    let r2 = init_repo();
    write(r2.path(), "config/settings.py", format!("KEY = \"{b}\"\n"));
    commit_all(r2.path(), "settings");
    std::fs::remove_file(r2.path().join("config/settings.py")).unwrap();
    write(
        r2.path(),
        "config/README",
        "keys come from the environment\n",
    );
    commit_all(r2.path(), "no key in the tree");
    let r6 = init_repo();
    write(r6.path(), "deploy/app.env", key_line(&b));
    commit_all(r6.path(), "deploy");
    keys.push((b, vec![path(&r2), path(&r6)]));
    entries.push(path(&r2));

    // A key on a branch only.
    let c = openai_project_key();
    let r3 = init_repo();
    write(r3.path(), "app.js", "console.log(1)\n");
    commit_all(r3.path(), "init");
    git(r3.path(), &["checkout", "-q", "-b", "feature"]);
    write(r3.path(), "app.js", format!("const k = '{c}';\n"));
    commit_all(r3.path(), "try it");
    git(r3.path(), &["checkout", "-q", "main"]);
    keys.push((c, vec![path(&r3)]));
    entries.push(path(&r3));

    // Clean repositories.
    let r4 = init_repo();
    for i in 0..4 {
        write(r4.path(), "notes.txt", format!("note {i}\n"));
        commit_all(r4.path(), &format!("note {i}"));
    }
    entries.push(path(&r4));

    // Behind a file:// URL.
    let d = openai_project_key();
    let r5 = init_repo();
    write(r5.path(), "secrets.yaml", format!("openai_api_key: {d}\n"));
    commit_all(r5.path(), "oops");
    let url = format!("file://{}", path(&r5));
    keys.push((d, vec![url.clone()]));
    entries.push(url);

    entries.push(path(&r6));
    let r7 = init_repo();
    write(r7.path(), "LICENSE", "MIT\n");
    commit_all(r7.path(), "license");
    entries.push(path(&r7));

    let list = format!("# the repositories to audit\n\n{}\n", entries.join("\n"));
    dirs.extend([r0, forks, r2, r3, r4, r5, r6, r7]);
    Fleet {
        _dirs: dirs,
        list,
        keys,
    }
}

/// `PATH` without any directory that holds a `keyhound`: the files must bring their own.
fn system_path() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("keyhound").exists())
        .collect();
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

/// A cleared environment: only what a runner or a pod would set, and git kept from any
/// system-wide config.
fn clean_command(program: &str, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("HOME", home)
        .env("TMPDIR", home)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

/// The one-process audit of `list`, with the flags the deploy files give other than the shard.
fn one_process(list: &Path, dir: &Path) -> Vec<u8> {
    let out = dir.join("one.json");
    let mut cmd = clean_command(
        assert_cmd::cargo::cargo_bin("keyhound").to_str().unwrap(),
        dir,
    );
    cmd.env("PATH", system_path())
        .args(["audit", "--repos"])
        .arg(list)
        .arg("--clone-dir")
        .arg(dir.join("clones"))
        .args(["--format", "json", "-o"])
        .arg(&out)
        .arg("--quiet");
    let status = cmd.output().expect("keyhound runs");
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    std::fs::read(out).unwrap()
}

/// The merged report names every repository of the list, holds every key with exactly the
/// repositories that hold it, and is the one-process report, byte for byte.
fn check_merged(merged: &[u8], fleet: &Fleet, one: &[u8]) {
    let summary = json_summary(merged);
    let listed: BTreeSet<&str> = fleet
        .list
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let audited: BTreeSet<&str> = summary["per_repository"]
        .as_array()
        .expect("per_repository")
        .iter()
        .map(|r| r["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(audited, listed, "{summary}");
    assert_eq!(summary["errors"], serde_json::json!([]), "{summary}");
    assert!(
        summary.get("shard").is_none(),
        "a merged report is no shard: {summary}"
    );
    let findings = json_findings(merged);
    let findings = findings.as_array().expect("a findings array");
    for (key, repos) in &fleet.keys {
        let tail = &key[key.len() - 4..];
        let f = findings
            .iter()
            .find(|f| f["secret"].as_str().is_some_and(|s| s.ends_with(tail)))
            .unwrap_or_else(|| panic!("no finding of the key ending {tail}: {findings:?}"));
        let holders: BTreeSet<&str> = f["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|r| r["repository"].as_str().expect("a repository"))
            .collect();
        let want: BTreeSet<&str> = repos.iter().map(String::as_str).collect();
        assert_eq!(holders, want, "{f}");
    }
    assert_eq!(findings.len(), fleet.keys.len(), "{findings:?}");
    assert!(
        merged == one,
        "the merged report differs from the one-process audit:\n{}\n---\n{}",
        String::from_utf8_lossy(merged),
        String::from_utf8_lossy(one)
    );
}

/// What a step of a job sees of the run.
struct Ctx<'a> {
    matrix: Option<&'a str>,
    env: &'a BTreeMap<String, String>,
    outputs: &'a BTreeMap<String, String>,
    runner_temp: &'a Path,
}

/// The value of one `${{ }}` expression. Only the ones the file needs are known here; another
/// is a test failure, so that what the test runs is what GitHub would.
fn expr(e: &str, cx: &Ctx) -> String {
    let e = e.trim();
    if e == "matrix.shard" {
        return cx
            .matrix
            .expect("matrix.shard outside the matrix job")
            .to_string();
    }
    if e == "runner.temp" {
        return cx.runner_temp.to_str().unwrap().to_string();
    }
    if e == "runner.os" {
        return "Linux".into();
    }
    if e == "github.run_id" {
        return "1".into();
    }
    if let Some(name) = e.strip_prefix("env.") {
        return cx
            .env
            .get(name)
            .unwrap_or_else(|| panic!("${{{{ {e} }}}}: no such env"))
            .clone();
    }
    if let Some(rest) = e.strip_prefix("steps.") {
        let (id, name) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
        return cx
            .outputs
            .get(&format!("{id}.{name}"))
            .unwrap_or_else(|| panic!("${{{{ {e} }}}}: the step set no such output"))
            .clone();
    }
    panic!("an expression the test does not know: ${{{{ {e} }}}}")
}

fn subst(s: &str, cx: &Ctx) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("an unclosed ${{") + start;
        out.push_str(&expr(&rest[start + 3..end], cx));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A glob with `*` only, as artifact patterns use.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => name.strip_prefix(head).is_some_and(|rest| {
            (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))
        }),
    }
}

/// Where a runner keeps what `upload-artifact` uploaded: one directory per artifact.
struct Artifacts(PathBuf);

impl Artifacts {
    fn upload(&self, name: &str, files: &[PathBuf]) {
        let dir = self.0.join(name);
        assert!(!dir.exists(), "artifact {name} uploaded twice");
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            assert!(
                f.is_file(),
                "upload-artifact {name}: no file {}",
                f.display()
            );
            let to = dir.join(f.file_name().unwrap());
            std::fs::copy(f, &to).unwrap();
            // Artifacts do not keep the executable bit.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }

    /// Copies the artifacts `name` (or those matching `pattern`) into `to`: into `to` itself
    /// for one named artifact or with `merge-multiple`, else into `to/NAME/`.
    fn download(&self, name: Option<&str>, pattern: Option<&str>, merge: bool, to: &Path) {
        let mut found = 0;
        for e in std::fs::read_dir(&self.0).unwrap() {
            let e = e.unwrap();
            let art = e.file_name().into_string().unwrap();
            let wanted = match (name, pattern) {
                (Some(n), _) => n == art,
                (None, Some(p)) => glob(p, &art),
                (None, None) => true,
            };
            if !wanted {
                continue;
            }
            found += 1;
            let dest = if merge || name.is_some() {
                to.to_path_buf()
            } else {
                to.join(&art)
            };
            std::fs::create_dir_all(&dest).unwrap();
            for f in std::fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), dest.join(f.file_name())).unwrap();
            }
        }
        assert!(
            found > 0,
            "download-artifact: nothing matches {name:?} {pattern:?}"
        );
    }
}

/// What one run of a job did.
#[derive(Default)]
struct JobRun {
    /// `(step name, action or "run")` of each step not run here.
    skipped: Vec<(String, String)>,
    /// Each `run:` step's name and exit code.
    codes: Vec<(String, i32)>,
    /// All they printed, for failure messages.
    log: String,
}

/// The runner's directories for one job: workspace, temp and home, as GitHub gives each job
/// its own machine.
struct Runner {
    _dir: tempfile::TempDir,
    workspace: PathBuf,
    temp: PathBuf,
    home: PathBuf,
}

fn runner() -> Runner {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("workspace");
    let temp = dir.path().join("temp");
    let home = dir.path().join("home");
    for d in [&workspace, &temp, &home] {
        std::fs::create_dir_all(d).unwrap();
    }
    Runner {
        _dir: dir,
        workspace,
        temp,
        home,
    }
}

/// The steps skipped on purpose: they need GitHub or the network, and the test plays their
/// part (the workspace gets the list as checkout would; the build job's home gets the binary
/// as `cargo install` would).
const SKIP_RUN: &[&str] = &["install keyhound"];

fn run_job(
    job: &Yaml,
    matrix: Option<&str>,
    workflow_env: &BTreeMap<String, String>,
    r: &Runner,
    artifacts: &Artifacts,
) -> JobRun {
    let mut run = JobRun::default();
    let mut outputs = BTreeMap::new();
    let mut path_add: Vec<String> = Vec::new();
    let github_path = r.temp.join("github_path");
    let github_env = r.temp.join("github_env");
    std::fs::write(&github_path, "").unwrap();
    std::fs::write(&github_env, "").unwrap();

    let mut env = workflow_env.clone();
    for (k, v) in entries(&job["env"]) {
        let cx = Ctx {
            matrix,
            env: workflow_env,
            outputs: &outputs,
            runner_temp: &r.temp,
        };
        env.insert(k, subst(&string(v, "a job env value"), &cx));
    }

    for step in array(&job["steps"], "steps") {
        let name = string(&step["name"], "every step has a name");
        let cx = Ctx {
            matrix,
            env: &env,
            outputs: &outputs,
            runner_temp: &r.temp,
        };
        let with = |k: &str| scalar(&step["with"][k]).map(|v| subst(&v, &cx));
        if let Some(uses) = step["uses"].as_str() {
            let action = uses.split('@').next().unwrap();
            match action {
                "actions/upload-artifact" => {
                    let files: Vec<PathBuf> = with("path")
                        .expect("upload-artifact path")
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| match l.trim().strip_prefix("~/") {
                            Some(rest) => r.home.join(rest),
                            None => r.workspace.join(l.trim()),
                        })
                        .collect();
                    artifacts.upload(&with("name").expect("artifact name"), &files);
                }
                "actions/download-artifact" => {
                    let to = r.workspace.join(with("path").expect("download path"));
                    artifacts.download(
                        with("name").as_deref(),
                        with("pattern").as_deref(),
                        with("merge-multiple").as_deref() == Some("true"),
                        &to,
                    );
                }
                _ => run.skipped.push((name, action.to_string())),
            }
            continue;
        }
        let script = string(&step["run"], "a step with neither uses nor run");
        if SKIP_RUN.contains(&name.as_str()) {
            run.skipped.push((name, "run".into()));
            continue;
        }
        assert!(
            !script.contains("${{"),
            "step {name}: an expression inside run: (pass it through env:)"
        );
        let mut step_env = env.clone();
        for (k, v) in entries(&step["env"]) {
            step_env.insert(k, subst(&string(v, "a step env value"), &cx));
        }
        let github_output = r.temp.join("github_output");
        std::fs::write(&github_output, "").unwrap();
        let mut path = path_add.clone();
        path.push(system_path());
        // GitHub's default shell for `run:` on Linux.
        let out = clean_command("bash", &r.home)
            .args(["-e", "-c", &script])
            .current_dir(&r.workspace)
            .envs(&step_env)
            .env("PATH", path.join(":"))
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", &r.workspace)
            .env("RUNNER_TEMP", &r.temp)
            .env("RUNNER_OS", "Linux")
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ENV", &github_env)
            .output()
            .expect("bash runs");
        run.log
            .push_str(&format!("== {name} ({:?})\n{}", matrix, text(&out)));
        run.codes
            .push((name.clone(), out.status.code().unwrap_or(-1)));
        if let Some(id) = step["id"].as_str() {
            for line in std::fs::read_to_string(&github_output).unwrap().lines() {
                let (k, v) = line.split_once('=').expect("NAME=VALUE outputs only");
                outputs.insert(format!("{id}.{k}"), v.to_string());
            }
        }
        // GitHub puts the newest addition first.
        path_add = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .rev()
            .map(str::to_string)
            .collect();
        assert_eq!(
            std::fs::read_to_string(&github_env).unwrap(),
            "",
            "GITHUB_ENV is not played by this test"
        );
        if !out.status.success() {
            // The rest of the job would be skipped (no step here is `if: failure()`).
            break;
        }
    }
    run
}

#[test]
fn github_actions_matrix_runs_and_merges_to_the_one_process_report() {
    let doc = &load("github-actions-matrix.yml")[0];
    let fleet = fleet();
    let store = tempfile::tempdir().unwrap();
    let artifacts = Artifacts(store.path().to_path_buf());

    let on: BTreeSet<String> = entries(&doc["on"]).into_iter().map(|(k, _)| k).collect();
    assert!(
        on.contains("workflow_dispatch") && on.contains("schedule"),
        "{on:?}"
    );
    let workflow_env: BTreeMap<String, String> = entries(&doc["env"])
        .into_iter()
        .map(|(k, v)| (k, string(v, "a workflow env value")))
        .collect();
    let shards: usize = workflow_env["SHARDS"].parse().expect("SHARDS is a number");
    let repos_file = &workflow_env["REPOS_FILE"];

    let jobs = entries(&doc["jobs"]);
    let names: Vec<&str> = jobs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["build", "audit", "merge"]);
    let mut skipped = BTreeSet::new();
    let mut codes = BTreeMap::new();
    let mut log = String::new();
    let mut merge_dir = None;
    for (name, job) in &jobs {
        let matrix = &job["strategy"]["matrix"]["shard"];
        if let Some(list) = matrix.as_vec() {
            let list: Vec<String> = list.iter().map(|v| string(v, "a shard")).collect();
            let want: Vec<String> = (0..shards).map(|i| i.to_string()).collect();
            assert_eq!(list, want, "matrix.shard must list 0 .. SHARDS-1");
            assert_eq!(job["strategy"]["fail-fast"].as_bool(), Some(false));
            // The matrix: its jobs side by side, each on its own runner.
            let runs: Vec<JobRun> = std::thread::scope(|s| {
                let handles: Vec<_> = list
                    .iter()
                    .map(|shard| {
                        let (artifacts, workflow_env, fleet) = (&artifacts, &workflow_env, &fleet);
                        s.spawn(move || {
                            let r = runner();
                            write(&r.workspace, repos_file, &fleet.list);
                            run_job(job, Some(shard), workflow_env, &r, artifacts)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for run in runs {
                skipped.extend(run.skipped.into_iter().map(|(s, a)| (name.clone(), s, a)));
                for (step, code) in run.codes {
                    codes
                        .entry((name.clone(), step))
                        .or_insert_with(BTreeSet::new)
                        .insert(code);
                }
                log.push_str(&run.log);
            }
        } else {
            let r = runner();
            if name == "build" {
                // What `cargo install` leaves.
                let bin = r.home.join(".cargo/bin/keyhound");
                std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
                std::fs::copy(assert_cmd::cargo::cargo_bin("keyhound"), &bin).unwrap();
            }
            let run = run_job(job, None, &workflow_env, &r, &artifacts);
            skipped.extend(run.skipped.into_iter().map(|(s, a)| (name.clone(), s, a)));
            for (step, code) in run.codes {
                codes.insert((name.clone(), step), BTreeSet::from([code]));
            }
            log.push_str(&run.log);
            if name == "merge" {
                merge_dir = Some(r);
            }
        }
    }

    // Every step ran and passed, but the last: the audit found keys, so the run fails.
    let c = |job: &str, step: &str, code: i32| ((job.into(), step.into()), BTreeSet::from([code]));
    let want_codes: BTreeMap<(String, String), BTreeSet<i32>> = [
        c("audit", "put keyhound on PATH", 0),
        c("audit", "audit", 0),
        c("merge", "put keyhound on PATH", 0),
        c("merge", "merge", 0),
        c("merge", "fail on findings", 1),
    ]
    .into();
    assert_eq!(codes, want_codes, "{log}");

    let s = |job: &str, step: &str, action: &str| (job.into(), step.into(), action.into());
    let want_skipped: BTreeSet<(String, String, String)> = [
        s("build", "cache the keyhound binary", "actions/cache"),
        s("build", "install keyhound", "run"),
        s("audit", "check out the repository list", "actions/checkout"),
        s("audit", "restore this shard's state", "actions/cache"),
        s(
            "merge",
            "upload SARIF to code scanning",
            "github/codeql-action/upload-sarif",
        ),
    ]
    .into();
    assert_eq!(skipped, want_skipped, "the steps not run here changed");

    let r = merge_dir.expect("a merge job");
    let merged = std::fs::read(r.workspace.join("keyhound.json")).unwrap();
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.workspace.join("keyhound.sarif")).unwrap())
            .expect("SARIF is JSON");
    assert!(
        !sarif["runs"][0]["results"].as_array().unwrap().is_empty(),
        "{sarif}"
    );
    // The merged report went up as an artifact too, and it is the one the merge job wrote.
    assert_eq!(
        std::fs::read(store.path().join("keyhound-report/keyhound.json")).unwrap(),
        merged
    );
    for i in 0..shards {
        assert!(store
            .path()
            .join(format!("keyhound-shard-{i}/keyhound-shard-{i}.json"))
            .is_file());
    }

    let one_dir = tempfile::tempdir().unwrap();
    let list = one_dir.path().join("repos.txt");
    std::fs::write(&list, &fleet.list).unwrap();
    let one = one_process(&list, one_dir.path());
    check_merged(&merged, &fleet, &one);

    // A shard's report missing (its job never uploaded): the merge job refuses, names the
    // shard, and uploads nothing.
    std::fs::remove_dir_all(store.path().join("keyhound-shard-1")).unwrap();
    std::fs::remove_dir_all(store.path().join("keyhound-report")).unwrap();
    let (_, merge) = jobs.iter().find(|(k, _)| k == "merge").unwrap();
    let r = runner();
    let run = run_job(merge, None, &workflow_env, &r, &artifacts);
    let names: Vec<(&str, i32)> = run.codes.iter().map(|(s, c)| (s.as_str(), *c)).collect();
    assert_eq!(
        names,
        [("put keyhound on PATH", 0), ("merge", 2)],
        "{}",
        run.log
    );
    assert!(run.log.contains("shard 1/4 missing"), "{}", run.log);
    assert!(!store.path().join("keyhound-report").exists());
    assert!(!r.workspace.join("keyhound.json").exists());
}

/// The documents of the manifest by kind and name.
fn by_kind<'a>(docs: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// The only container of a Job's pod, as the argv it runs and its environment, with every
/// mount path replaced by the directory that stands for its volume.
fn pod(
    docs: &[Yaml],
    job: &Yaml,
    volumes: &BTreeMap<String, PathBuf>,
) -> (Vec<String>, Vec<(String, String)>) {
    let spec = &job["spec"]["template"]["spec"];
    assert_eq!(spec["restartPolicy"].as_str(), Some("Never"));
    let containers = array(&spec["containers"], "containers");
    assert_eq!(containers.len(), 1, "one container a pod");
    let c = &containers[0];
    let mut argv: Vec<String> = array(&c["command"], "command")
        .iter()
        .map(|v| string(v, "command"))
        .collect();
    if !c["args"].is_badvalue() {
        argv.extend(array(&c["args"], "args").iter().map(|v| string(v, "args")));
    }
    // Volume name → the directory that stands for it (a ConfigMap's, or the claim's).
    let mut dirs = BTreeMap::new();
    for v in array(&spec["volumes"], "volumes") {
        let name = string(&v["name"], "volume name");
        let dir = if let Some(cm) = v["configMap"]["name"].as_str() {
            by_kind(docs, "ConfigMap", cm);
            volumes[&format!("configmap/{cm}")].clone()
        } else {
            let claim = string(&v["persistentVolumeClaim"]["claimName"], "a PVC");
            by_kind(docs, "PersistentVolumeClaim", &claim);
            volumes[&format!("pvc/{claim}")].clone()
        };
        dirs.insert(name, dir);
    }
    let mut mounts = Vec::new();
    for m in array(&c["volumeMounts"], "volumeMounts") {
        let at = string(&m["mountPath"], "mountPath");
        let dir = dirs[&string(&m["name"], "mount name")].clone();
        for a in &argv {
            assert!(
                !a.contains(&at),
                "{at} written in the command: use an env variable"
            );
        }
        mounts.push((at, dir));
    }
    let env = array(&c["env"], "env")
        .iter()
        .map(|e| {
            let mut value = string(&e["value"], "env value");
            for (at, dir) in &mounts {
                if let Some(rest) = value.strip_prefix(at.as_str()) {
                    value = format!("{}{rest}", dir.to_str().unwrap());
                }
            }
            (string(&e["name"], "env name"), value)
        })
        .collect();
    (argv, env)
}

/// Runs a pod's container: `argv` with `env` and keyhound on PATH, `index` as Kubernetes sets
/// it for an Indexed Job.
fn spawn_pod(
    argv: &[String],
    env: &[(String, String)],
    index: Option<usize>,
    home: &Path,
) -> std::process::Child {
    let bin = assert_cmd::cargo::cargo_bin("keyhound");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().to_str().unwrap(),
        system_path()
    );
    let mut cmd = clean_command(&argv[0], home);
    cmd.args(&argv[1..])
        .current_dir(home)
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(i) = index {
        cmd.env("JOB_COMPLETION_INDEX", i.to_string());
    }
    cmd.spawn().expect("the pod's command runs")
}

#[test]
fn k8s_indexed_job_runs_and_merges_to_the_one_process_report() {
    let docs = load("k8s-indexed-job.yaml");
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();

    // Every document is applied in one of two steps, by its component label.
    for d in &docs {
        let c = d["metadata"]["labels"]["app.kubernetes.io/component"].as_str();
        assert!(matches!(c, Some("audit" | "merge")), "{d:?}");
    }
    let audit = by_kind(&docs, "Job", "keyhound-audit");
    let merge = by_kind(&docs, "Job", "keyhound-merge");
    let spec = &audit["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_i64().expect("completions") as usize;
    assert_eq!(spec["parallelism"].as_i64(), Some(n as i64));
    assert_eq!(n, 4);

    // The ConfigMap's list is the test's own (its URLs are placeholders); its key is the one
    // the pods read.
    let cm = by_kind(&docs, "ConfigMap", "keyhound-repos");
    let keys: Vec<String> = entries(&cm["data"]).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["repos.txt"]);
    let config = dir.path().join("configmap");
    write(&config, "repos.txt", &fleet.list);
    let pvc = dir.path().join("pvc");
    std::fs::create_dir_all(&pvc).unwrap();
    let volumes = BTreeMap::from([
        ("configmap/keyhound-repos".to_string(), config),
        ("pvc/keyhound-data".to_string(), pvc.clone()),
    ]);
    let (audit_argv, audit_env) = pod(&docs, audit, &volumes);
    let (merge_argv, merge_env) = pod(&docs, merge, &volumes);
    for env in [&audit_env, &merge_env] {
        let shards = env.iter().find(|(k, _)| k == "SHARDS").expect("SHARDS");
        assert_eq!(shards.1, n.to_string(), "SHARDS must equal completions");
    }

    let one_dir = tempfile::tempdir().unwrap();
    let list = one_dir.path().join("repos.txt");
    std::fs::write(&list, &fleet.list).unwrap();
    let one = one_process(&list, one_dir.path());

    // Twice, as a monthly audit would run: the second run starts from the state the first
    // left on the volume, and must come to the same report.
    for round in 0..2 {
        let homes: Vec<tempfile::TempDir> = (0..n).map(|_| tempfile::tempdir().unwrap()).collect();
        let pods: Vec<_> = (0..n)
            .map(|i| spawn_pod(&audit_argv, &audit_env, Some(i), homes[i].path()))
            .collect();
        for (i, p) in pods.into_iter().enumerate() {
            let out = p.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}, pod {i}: {}",
                text(&out)
            );
        }
        for i in 0..n {
            assert!(pvc
                .join(format!("reports/keyhound-shard-{i}.json"))
                .is_file());
        }
        let home = tempfile::tempdir().unwrap();
        let out = spawn_pod(&merge_argv, &merge_env, None, home.path())
            .wait_with_output()
            .unwrap();
        // Findings fail the merge Job.
        assert_eq!(out.status.code(), Some(1), "round {round}: {}", text(&out));
        let merged = std::fs::read(pvc.join("merged/keyhound.json")).unwrap();
        check_merged(&merged, &fleet, &one);
        let sarif: serde_json::Value =
            serde_json::from_slice(&std::fs::read(pvc.join("merged/keyhound.sarif")).unwrap())
                .expect("SARIF is JSON");
        assert!(sarif["runs"][0]["results"].is_array(), "{sarif}");
    }
    assert!(pvc.join(format!("state/{n}-0")).is_dir());

    // A shard's report missing (its pod never finished): the merge refuses, names the shard,
    // and leaves no merged report behind (not even the last run's).
    std::fs::remove_file(pvc.join("reports/keyhound-shard-2.json")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = spawn_pod(&merge_argv, &merge_env, None, home.path())
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("keyhound-shard-2.json"),
        "{}",
        text(&out)
    );
    assert!(!pvc.join("merged/keyhound.json").exists());
}
