//! Turns the built-in rule files (`rules/*.toml`) into JSON at build time: the library embeds
//! both, and loads the built-in rules from the JSON, which parses several times faster than
//! TOML (every run loads them; a pre-commit check is a few milliseconds in all). The TOML stays
//! the source of truth; a file that does not parse fails the build, naming it.
//!
//! It also writes `gates.rs`: for every built-in regex (as compiled: a packed rule's without
//! its boundaries) and path regex, the literal sets every match requires (the analyses in
//! `src/rules/required/literals.rs`, included here), so that a run can skip a rule's regex,
//! and its compilation, without parsing it (parsing the longest built-in regex costs about
//! 1.5 M instructions, half a pre-commit check's scan).
//!
//! And `triggers.rs`: the built-in rules' keywords and the sorted table of their base64
//! patterns (`src/decode/encoding/patterns.rs`, included here), which a short scan searches
//! for encoded keywords.

#[path = "src/rules/boundaries.rs"]
mod boundaries;
#[path = "src/rules/required/literals.rs"]
mod literals;
#[path = "src/decode/encoding/patterns.rs"]
mod patterns;

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
    let mut sources = std::collections::BTreeSet::new();
    let mut keywords = std::collections::BTreeSet::new();
    let mut examples = serde_json::Map::new();
    for path in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        let value = convert(&path, &out, &mut examples);
        regex_sources(&value, &mut sources);
        rule_keywords(&value, &mut keywords);
    }
    write_gates(&sources, &out.with_file_name("gates.rs"));
    let dest = out.join("examples.json");
    let json = serde_json::to_string(&examples).expect("JSON values are JSON");
    std::fs::write(&dest, json).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    write_triggers(&keywords, &out.with_file_name("triggers.rs"));
}

/// The keywords of every rule of a rule file.
fn rule_keywords(value: &toml::Value, out: &mut std::collections::BTreeSet<Vec<u8>>) {
    let rules = value.get("rules").and_then(toml::Value::as_array);
    for rule in rules.into_iter().flatten() {
        let keywords = rule.get("keywords").and_then(toml::Value::as_array);
        out.extend(
            keywords
                .into_iter()
                .flatten()
                .filter_map(|k| k.as_str())
                .filter(|k| !k.is_empty())
                .map(|k| k.as_bytes().to_vec()),
        );
    }
}

/// `triggers.rs`: the built-in rules' distinct keywords, sorted, and the sorted table of their
/// base64 patterns (`src/decode/encoding/patterns.rs`, included here), as byte strings and
/// offsets: a pre-commit check that meets a base64-looking run searches it without making
/// the table (2.6 M instructions, most of the decoding cost of a one-file scan).
fn write_triggers(keywords: &std::collections::BTreeSet<Vec<u8>>, dest: &Path) {
    let mut ends = Vec::new();
    let mut bytes = Vec::new();
    for k in keywords {
        bytes.extend_from_slice(k);
        ends.push(bytes.len() as u32);
    }
    let table = patterns::sorted_table(keywords.iter().map(Vec::as_slice));
    let text = format!(
        "pub(super) static BUILTIN_KEYWORDS: &[u8] = &{bytes:?};\n\
         pub(super) static BUILTIN_KEYWORD_ENDS: &[u32] = &{ends:?};\n\
         pub(super) static BUILTIN_BASE64: &[u8] = &{:?};\n\
         pub(super) static BUILTIN_BASE64_ENDS: &[u32] = &{:?};\n\
         pub(super) static BUILTIN_BASE64_SKIPS: &[u8] = &{:?};\n",
        table.bytes, table.ends, table.skips
    );
    std::fs::write(dest, text).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// Every regex of a rule file that a run may match against content or a path: a rule's
/// `regex` (relaxed when `packed`), `path`, and the `paths` of any allowlist.
fn regex_sources(value: &toml::Value, out: &mut std::collections::BTreeSet<String>) {
    match value {
        toml::Value::Table(t) => {
            if let Some(toml::Value::String(r)) = t.get("regex") {
                let packed = matches!(t.get("packed"), Some(toml::Value::Boolean(true)));
                match boundaries::relax_boundaries(r) {
                    Some(relaxed) if packed => out.insert(relaxed),
                    _ => out.insert(r.clone()),
                };
            }
            if let Some(toml::Value::String(p)) = t.get("path") {
                out.insert(p.clone());
            }
            if let Some(toml::Value::Array(ps)) = t.get("paths") {
                out.extend(ps.iter().filter_map(|p| p.as_str().map(String::from)));
            }
            t.values().for_each(|v| regex_sources(v, out));
        }
        toml::Value::Array(a) => a.iter().for_each(|v| regex_sources(v, out)),
        _ => {}
    }
}

/// `gates.rs`: an array expression of `(source, best set, all sets)` sorted by source (a regex
/// that does not parse gets no sets; loading the rules reports it).
fn write_gates(sources: &std::collections::BTreeSet<String>, dest: &Path) {
    let mut text = String::from("&[\n");
    for source in sources {
        let hir = literals::parse(source);
        let all = hir.as_ref().map(literals::conjuncts).unwrap_or_default();
        let best = hir.as_ref().and_then(literals::best);
        let set = |s: &Vec<Vec<u8>>| {
            let lits: Vec<String> = s.iter().map(|l| format!("&{l:?}")).collect();
            format!("&[{}]", lits.join(", "))
        };
        let all: Vec<String> = all.iter().map(set).collect();
        let best = best
            .as_ref()
            .map_or("None".to_string(), |b| format!("Some({})", set(b)));
        text += &format!("    ({source:?}, {best}, &[{}]),\n", all.join(", "));
    }
    text += "]\n";
    std::fs::write(dest, text).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// Writes the rule file at `path` as JSON into `out`, without its rules' examples, which go
/// into `examples` by rule id (`[examples, negative_examples]`); returns the file as parsed.
fn convert(
    path: &Path,
    out: &Path,
    examples: &mut serde_json::Map<String, serde_json::Value>,
) -> toml::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut json = serde_json::to_value(&value).expect("a TOML value is JSON");
    let rules = json
        .get_mut("rules")
        .and_then(serde_json::Value::as_array_mut);
    for rule in rules.into_iter().flatten() {
        let Some(rule) = rule.as_object_mut() else {
            continue;
        };
        let mut take = |field: &str| rule.remove(field).unwrap_or_else(|| serde_json::json!([]));
        let pair = serde_json::json!([take("examples"), take("negative_examples")]);
        if let Some(id) = rule.get("id").and_then(serde_json::Value::as_str) {
            if examples.insert(id.to_string(), pair).is_some() {
                panic!(
                    "{}: rule `{id}` is defined in two built-in files",
                    path.display()
                );
            }
        }
    }
    let json = serde_json::to_string(&json).expect("JSON values are JSON");
    let stem = path.file_stem().expect("a file name").to_string_lossy();
    let dest = out.join(format!("{stem}.json"));
    std::fs::write(&dest, json).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    value
}
