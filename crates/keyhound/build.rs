//! Turns the built-in rule files (`rules/*.toml`) into JSON at build time: the library embeds
//! both, and loads the built-in rules from the JSON, which parses several times faster than
//! TOML (every run loads them; a pre-commit check is a few milliseconds in all). The TOML stays
//! the source of truth; a file that does not parse fails the build, naming it.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let rules = manifest.join("../../rules");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it")).join("rules");
    println!("cargo:rerun-if-changed={}", rules.display());
    std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&rules)
        .unwrap_or_else(|e| panic!("{}: {e}", rules.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        convert(&path, &out);
    }
}

fn convert(path: &Path, out: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json = serde_json::to_string(&value).expect("a TOML value is JSON");
    let stem = path.file_stem().expect("a file name").to_string_lossy();
    let dest = out.join(format!("{stem}.json"));
    std::fs::write(&dest, json).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}
