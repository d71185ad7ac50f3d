//! Reading gitleaks (and betterleaks, which shares its format) config files, and translating
//! them into keyhound's own [`RuleFile`], with a note for everything that could not be carried
//! exactly.
//!
//! The file is walked as plain TOML rather than deserialized into structs: gitleaks reads it
//! through viper, whose keys are case-insensitive (`secretGroup`, `secretgroup` and
//! `SecretGroup` are one key), and a file with an unknown key must still load, with the key
//! named by file and line.
//!
//! Semantics follow gitleaks 8 (`config/config.go`, `config/allowlist.go`, `detect/detect.go`),
//! with these decisions:
//! - A file that does not say `[extend] useDefault` keeps keyhound's built-in rules (gitleaks
//!   would run only the file's own rules, none at all for an allowlist-only file); only an
//!   explicit `useDefault = false` replaces them. A note says which happened.
//! - gitleaks keywords are case-insensitive; keyhound's prefilter is case-sensitive (see
//!   MEASURED.md), so each keyword becomes its usual casings: lower, UPPER and Capitalized.
//!   A rule without keywords gets the literal prefixes of its regex, when it has some.
//! - A regex the regex crate cannot compile (Go RE2 and Rust differ in a few places) drops its
//!   rule, or its allowlist pattern, with a note naming it; the rest of the file loads.
//! - Composite rules (`[[rules.required]]`, `withinLines`, `withinColumns`) and `skipReport`
//!   carry over as keyhound's `required` and `report = false`. A required rule that does not
//!   load drops the requirement (the primary rule is then reported on its own), with a note.

use std::collections::BTreeSet;

use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::rules::build_regex;
use crate::rules::syntax::{AllowlistSpec, ExtendSpec, GroupRef, RequiredSpec, RuleFile, RuleSpec};

/// How far `[extend] path` is followed (gitleaks' limit).
const MAX_EXTEND_DEPTH: usize = 2;

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// Something in the file is wrong or was dropped (an unknown key, a regex that does not
    /// compile): `config check` fails on it.
    Problem,
    /// Carried, but not exactly as gitleaks does it.
    Approximate,
    /// What keyhound decided (built-in rules kept, tags not carried).
    Info,
}

/// Something to tell the user about an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNote {
    /// The file it is about.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// How much it matters.
    pub kind: NoteKind,
    /// What happened.
    pub message: String,
}

impl std::fmt::Display for ImportNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A translated gitleaks file.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The equivalent keyhound config.
    pub file: RuleFile,
    /// What could not be carried exactly, and what was decided.
    pub notes: Vec<ImportNote>,
}

impl Imported {
    /// Whether a note is a [`NoteKind::Problem`].
    pub fn has_problems(&self) -> bool {
        self.notes.iter().any(|n| n.kind == NoteKind::Problem)
    }
}

/// Reads the file an `[extend] path` names: `Ok((name to show, text))`, or why not.
pub type Loader<'a> = dyn FnMut(&str) -> std::result::Result<(String, String), String> + 'a;

/// Whether a file name is one gitleaks or betterleaks uses (`.gitleaks.toml`, `gitleaks.toml`,
/// `.betterleaks.toml`...).
pub(crate) fn is_gitleaks_name(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    lower.contains("gitleaks") || lower.contains("betterleaks")
}

/// Keys only gitleaks files have (lowercased; `required` is keyhound's too).
const GITLEAKS_ONLY_KEYS: &[&str] = &[
    "title",
    "minversion",
    "usedefault",
    "disabledrules",
    "secretgroup",
    "tags",
    "skipreport",
    "regextarget",
    "targetrules",
    "withinlines",
    "withincolumns",
    "whitelist",
];

/// Whether a config file is in gitleaks' format: by its name (a name with `keyhound` in it
/// is keyhound's, one with `gitleaks` or `betterleaks` gitleaks'), else by its content: a key
/// only gitleaks has, or a camelCase key (keyhound's keys are snake_case; a verify block's
/// headers are not looked at).
pub fn looks_like_gitleaks(name: &str, text: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.to_ascii_lowercase().contains("keyhound") {
        return false;
    }
    if is_gitleaks_name(name) {
        return true;
    }
    let Ok(table) = text.parse::<Table>() else {
        return false;
    };
    fn any_key(v: &Value) -> bool {
        match v {
            Value::Table(t) => t.iter().any(|(k, v)| {
                k != "verify"
                    && (GITLEAKS_ONLY_KEYS.contains(&k.to_ascii_lowercase().as_str())
                        || k.chars().any(|c| c.is_ascii_uppercase())
                        || any_key(v))
            }),
            Value::Array(a) => a.iter().any(any_key),
            _ => false,
        }
    }
    any_key(&Value::Table(table))
}

/// A gitleaks rule as read, before `[extend]` merging.
#[derive(Debug, Clone, Default)]
struct GRule {
    id: String,
    description: Option<String>,
    regex: Option<String>,
    path: Option<String>,
    group: i64,
    entropy: Option<f64>,
    keywords: Vec<String>,
    tags: Vec<String>,
    allowlists: Vec<AllowlistSpec>,
    required: Vec<RequiredSpec>,
    skip_report: bool,
    file: String,
    line: Option<usize>,
}

/// One file's content, merged with the files it extends.
#[derive(Debug, Default)]
struct Layer {
    rules: Vec<GRule>,
    allowlists: Vec<AllowlistSpec>,
    disabled: Vec<String>,
    keeps_builtins: bool,
}

struct Reader<'n> {
    notes: &'n mut Vec<ImportNote>,
    file: String,
    text: String,
    /// How many times each unknown key has been looked up, to find the n-th occurrence.
    seen: std::collections::HashMap<String, usize>,
}

impl Reader<'_> {
    fn note(&mut self, kind: NoteKind, line: Option<usize>, message: String) {
        self.notes.push(ImportNote {
            file: self.file.clone(),
            line,
            kind,
            message,
        });
    }

    /// The line of the n-th occurrence of `key` as a key (`key =` or in a `[header]`).
    fn line_of_key(&mut self, key: &str) -> Option<usize> {
        let n = self.seen.entry(key.to_string()).or_insert(0);
        let want = *n;
        *n += 1;
        let mut count = 0;
        for (i, line) in self.text.lines().enumerate() {
            let l = line.trim_start();
            let segments: Vec<&str> = if let Some(h) = l.strip_prefix('[') {
                let h = h.trim_start_matches('[');
                let h = h.split(']').next().unwrap_or("");
                h.split('.').collect()
            } else if let Some((k, _)) = l.split_once('=') {
                k.split('.').collect()
            } else {
                continue;
            };
            if segments
                .iter()
                .any(|s| s.trim().trim_matches(['"', '\'']) == key)
            {
                if count == want {
                    return Some(i + 1);
                }
                count += 1;
            }
        }
        None
    }

    /// The line of `id = "ID"`.
    fn line_of_id(&self, id: &str) -> Option<usize> {
        self.text
            .lines()
            .position(|line| {
                line.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("id") && v.trim().trim_matches(['"', '\'']) == id
                })
            })
            .map(|i| i + 1)
    }

    fn unknown(&mut self, key: &str, within: &str, hint: &str) {
        let line = self.line_of_key(key);
        self.note(
            NoteKind::Problem,
            line,
            format!(
                "unknown key `{}` in {within}{hint}: ignored",
                key.escape_debug()
            ),
        );
    }

    fn wrong_type(&mut self, key: &str, within: &str, want: &str) {
        let line = self.line_of_key(key);
        self.note(
            NoteKind::Problem,
            line,
            format!("`{key}` in {within} should be {want}: ignored"),
        );
    }

    fn string(&mut self, key: &str, v: &Value, within: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(key, within, "a string");
                None
            }
        }
    }

    fn strings(&mut self, key: &str, v: &Value, within: &str) -> Vec<String> {
        match v.as_array() {
            Some(a) if a.iter().all(Value::is_str) => a
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect(),
            _ => {
                self.wrong_type(key, within, "an array of strings");
                Vec::new()
            }
        }
    }

    fn tables<'v>(&mut self, key: &str, v: &'v Value, within: &str) -> Vec<&'v Table> {
        match v {
            Value::Table(t) => vec![t],
            Value::Array(a) if a.iter().all(Value::is_table) => {
                a.iter().filter_map(Value::as_table).collect()
            }
            _ => {
                self.wrong_type(key, within, "a table or an array of tables");
                Vec::new()
            }
        }
    }
}

/// Translates a gitleaks config file. `builtins` are keyhound's built-in rules (a rule that
/// amends a gitleaks default rule amends the keyhound rule of the same id); `load` reads the
/// file an `[extend] path` names.
pub fn translate(
    origin: &str,
    text: &str,
    builtins: &[RuleSpec],
    load: &mut Loader<'_>,
) -> Result<Imported> {
    let mut notes = Vec::new();
    let layer = read_layer(origin, text, 0, load, &mut notes)?;
    let mut r = Reader {
        notes: &mut notes,
        file: origin.to_string(),
        text: text.to_string(),
        seen: Default::default(),
    };
    let mut rules = Vec::new();
    let mut derived = Vec::new();
    let mut first_group = Vec::new();
    let mut tagged = 0;
    for g in layer.rules {
        if !g.tags.is_empty() {
            tagged += 1;
        }
        if let Some(spec) = convert_rule(&mut r, g, builtins, &mut derived, &mut first_group) {
            rules.push(spec);
        }
    }
    if !derived.is_empty() {
        r.note(
            NoteKind::Info,
            None,
            format!(
                "rules without keywords ({}): keywords taken from the literal start of their regex",
                derived.join(", ")
            ),
        );
    }
    if !first_group.is_empty() {
        r.note(
            NoteKind::Approximate,
            None,
            format!(
                "rules without secretGroup whose regex has several groups ({}): the secret is group 1 (gitleaks takes the first group that matched)",
                first_group.join(", ")
            ),
        );
    }
    if tagged > 0 {
        r.note(
            NoteKind::Info,
            None,
            format!("tags of {tagged} rule(s) are not carried (keyhound has no tags)"),
        );
    }

    let loaded: BTreeSet<String> = rules.iter().map(|s| s.id.clone()).collect();
    for spec in &mut rules {
        let before = spec.required.len();
        let id = spec.id.clone();
        spec.required
            .retain(|q| q.id != id && loaded.contains(&q.id));
        if spec.required.len() < before {
            let line = r.line_of_id(&spec.id);
            r.note(
                NoteKind::Problem,
                line,
                format!("rule `{}` requires a rule that is not loaded: it is reported without that requirement (more findings than gitleaks)", spec.id),
            );
        }
    }
    let defined: BTreeSet<&str> = rules.iter().map(|s| s.id.as_str()).collect();
    let builtin_ids: BTreeSet<&str> = builtins.iter().map(|s| s.id.as_str()).collect();
    let mut allowlists = Vec::new();
    for mut a in layer.allowlists {
        if !a.rules.is_empty() {
            let (ok, missing): (Vec<String>, Vec<String>) =
                a.rules.iter().cloned().partition(|id| {
                    defined.contains(id.as_str())
                        || (layer.keeps_builtins && builtin_ids.contains(id.as_str()))
                });
            if !missing.is_empty() {
                r.note(
                    NoteKind::Problem,
                    None,
                    format!(
                        "[[allowlists]] targetRules names rules that are not loaded: {} (dropped from the list)",
                        missing.join(", ")
                    ),
                );
            }
            if ok.is_empty() {
                continue;
            }
            a.rules = ok;
        }
        allowlists.push(a);
    }

    let mut disable = Vec::new();
    let mut foreign = Vec::new();
    for id in layer.disabled {
        if builtin_ids.contains(id.as_str()) && layer.keeps_builtins {
            if !disable.contains(&id) {
                disable.push(id);
            }
        } else if !defined.contains(id.as_str()) {
            foreign.push(id);
        }
    }
    if !foreign.is_empty() {
        r.note(
            NoteKind::Info,
            None,
            format!(
                "disabledRules: no keyhound rule has the id {} (gitleaks rule ids; nothing disabled for them; `keyhound rules list` lists keyhound's)",
                foreign.join(", ")
            ),
        );
    }
    Ok(Imported {
        file: RuleFile {
            origin: origin.to_string(),
            extend: Some(ExtendSpec {
                default: layer.keeps_builtins,
                disable,
            }),
            allowlist: None,
            allowlists,
            rules,
            scan: None,
        },
        notes,
    })
}

fn read_layer(
    origin: &str,
    text: &str,
    depth: usize,
    load: &mut Loader<'_>,
    notes: &mut Vec<ImportNote>,
) -> Result<Layer> {
    let table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::RuleFileSyntax {
            file: origin.to_string(),
            message: e.message().to_string() + &syntax_line(text, e.span()),
        })?;
    let mut r = Reader {
        notes,
        file: origin.to_string(),
        text: text.to_string(),
        seen: Default::default(),
    };
    let mut use_default = None;
    let mut extend_path = None;
    let mut disabled = Vec::new();
    let mut rules = Vec::new();
    let mut allowlists = Vec::new();
    let mut old_allowlist = false;
    for (key, value) in &table {
        match key.to_ascii_lowercase().as_str() {
            "title" | "description" | "minversion" => {}
            "extend" => {
                let Some(t) = value.as_table() else {
                    r.wrong_type(key, "the file", "a table");
                    continue;
                };
                for (k, v) in t {
                    match k.to_ascii_lowercase().as_str() {
                        "usedefault" => match v.as_bool() {
                            Some(b) => use_default = Some(b),
                            None => r.wrong_type(k, "[extend]", "true or false"),
                        },
                        "disabledrules" => disabled = r.strings(k, v, "[extend]"),
                        "path" => extend_path = r.string(k, v, "[extend]"),
                        "url" => {
                            let line = r.line_of_key(k);
                            r.note(
                                NoteKind::Problem,
                                line,
                                "[extend] url is not supported (gitleaks does not implement it either): ignored".into(),
                            );
                        }
                        _ => r.unknown(k, "[extend]", ""),
                    }
                }
            }
            "rules" => {
                for t in r.tables(key, value, "the file") {
                    if let Some(g) = read_rule(&mut r, t) {
                        rules.push(g);
                    }
                }
            }
            "allowlist" | "allowlists" => {
                if key.eq_ignore_ascii_case("allowlist") {
                    old_allowlist = true;
                }
                for t in r.tables(key, value, "the file") {
                    if let Some(a) = read_allowlist(&mut r, t, "the global allowlist", true) {
                        allowlists.push(a);
                    }
                }
            }
            "whitelist" => r.unknown(
                key,
                "the file",
                " (gitleaks 7's [whitelist]; gitleaks 8 ignores it too: rename it [allowlist])",
            ),
            _ => r.unknown(key, "the file", ""),
        }
    }
    if old_allowlist
        && table
            .keys()
            .filter(|k| k.eq_ignore_ascii_case("allowlist") || k.eq_ignore_ascii_case("allowlists"))
            .count()
            > 1
    {
        r.note(
            NoteKind::Problem,
            None,
            "[allowlist] and [[allowlists]] together (gitleaks refuses this file): both are used"
                .into(),
        );
    }
    if extend_path.is_some() && use_default == Some(true) {
        r.note(
            NoteKind::Problem,
            None,
            "[extend] has both path and useDefault (gitleaks refuses this file): both are used"
                .into(),
        );
    }
    let own_rules = rules.len();
    let mut layer = Layer {
        rules,
        allowlists,
        disabled: disabled.clone(),
        keeps_builtins: true,
    };
    let base = match extend_path {
        Some(p) if depth < MAX_EXTEND_DEPTH => match load(&p) {
            Ok((name, text)) => Some(read_layer(&name, &text, depth + 1, load, r.notes)?),
            Err(why) => {
                r.note(
                    NoteKind::Problem,
                    None,
                    format!("[extend] path `{}`: {why}: not extended", p.escape_debug()),
                );
                None
            }
        },
        Some(p) => {
            r.note(
                NoteKind::Problem,
                None,
                format!(
                    "[extend] path `{}`: extends are followed {MAX_EXTEND_DEPTH} deep, as in gitleaks: not extended",
                    p.escape_debug()
                ),
            );
            None
        }
        None => None,
    };
    layer.keeps_builtins = match (use_default, &base) {
        (Some(true), _) => true,
        (_, Some(b)) => b.keeps_builtins,
        (Some(false), None) => {
            if depth == 0 {
                r.note(
                    NoteKind::Info,
                    None,
                    format!("[extend] useDefault = false: only the file's {own_rules} rule(s) run, not keyhound's built-in rules (as in gitleaks)"),
                );
            }
            false
        }
        (None, None) => {
            if depth == 0 {
                let gitleaks = if own_rules == 0 {
                    "gitleaks would run no rule at all".to_string()
                } else {
                    format!("gitleaks would run only its {own_rules} rule(s)")
                };
                r.note(
                    NoteKind::Info,
                    None,
                    format!("no [extend] useDefault: keyhound keeps its built-in rules ({gitleaks}; add `[extend] useDefault = false` to run only the file's rules)"),
                );
            }
            true
        }
    };
    if let Some(base) = base {
        for mut b in base.rules {
            if disabled.contains(&b.id) {
                continue;
            }
            match layer.rules.iter_mut().find(|g| g.id == b.id) {
                None => layer.rules.push(b),
                Some(g) => {
                    // gitleaks' merge: the extending file's fields win where set; lists add up.
                    let line = g.line;
                    let file = std::mem::take(&mut g.file);
                    b.description = g.description.take().or(b.description);
                    b.regex = g.regex.take().or(b.regex);
                    b.path = g.path.take().or(b.path);
                    if g.group != 0 {
                        b.group = g.group;
                    }
                    b.entropy = g.entropy.or(b.entropy);
                    b.keywords.append(&mut g.keywords);
                    b.tags.append(&mut g.tags);
                    b.allowlists.append(&mut g.allowlists);
                    b.required.append(&mut g.required);
                    b.file = file;
                    b.line = line;
                    *g = b;
                }
            }
        }
        layer.allowlists.extend(base.allowlists);
        layer.disabled.extend(base.disabled);
    }
    Ok(layer)
}

fn read_rule(r: &mut Reader<'_>, t: &Table) -> Option<GRule> {
    let id = t
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("id"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string);
    let Some(id) = id else {
        let line = r.line_of_key("rules");
        r.note(
            NoteKind::Problem,
            line,
            "a [[rules]] entry without an id: not loaded".into(),
        );
        return None;
    };
    let within = format!("rule `{}`", id.escape_debug());
    let mut g = GRule {
        line: r.line_of_id(&id),
        file: r.file.clone(),
        id,
        ..GRule::default()
    };
    for (k, v) in t {
        match k.to_ascii_lowercase().as_str() {
            "id" => {}
            "description" => g.description = r.string(k, v, &within),
            "regex" => g.regex = r.string(k, v, &within),
            "path" => g.path = r.string(k, v, &within),
            "secretgroup" => match v.as_integer() {
                Some(n) if n >= 0 => g.group = n,
                _ => r.wrong_type(k, &within, "a group number"),
            },
            "entropy" => match v {
                Value::Float(f) => g.entropy = Some(*f),
                Value::Integer(i) => g.entropy = Some(*i as f64),
                _ => r.wrong_type(k, &within, "a number"),
            },
            "keywords" => g.keywords = r.strings(k, v, &within),
            "tags" => g.tags = r.strings(k, v, &within),
            "skipreport" => match v.as_bool() {
                Some(b) => g.skip_report = b,
                None => r.wrong_type(k, &within, "true or false"),
            },
            "allowlist" | "allowlists" => {
                for a in r.tables(k, v, &within) {
                    let ctx = format!("an allowlist of {within}");
                    if let Some(spec) = read_allowlist(r, a, &ctx, false) {
                        g.allowlists.push(spec);
                    }
                }
            }
            "required" => {
                for req in r.tables(k, v, &within) {
                    let ctx = format!("[[rules.required]] of {within}");
                    let mut spec = RequiredSpec {
                        id: String::new(),
                        within_lines: None,
                        within_columns: None,
                    };
                    for (rk, rv) in req {
                        let distance = |r: &mut Reader<'_>| match rv.as_integer() {
                            Some(n) if n >= 0 => Some(n as usize),
                            _ => {
                                r.wrong_type(rk, &ctx, "a number of lines or columns");
                                None
                            }
                        };
                        match rk.to_ascii_lowercase().as_str() {
                            "id" => spec.id = r.string(rk, rv, &ctx).unwrap_or_default(),
                            "withinlines" => spec.within_lines = distance(r),
                            "withincolumns" => spec.within_columns = distance(r),
                            _ => r.unknown(rk, &ctx, ""),
                        }
                    }
                    if spec.id.is_empty() {
                        let line = r.line_of_key(k);
                        r.note(NoteKind::Problem, line, format!("{ctx} has no id: ignored"));
                    } else {
                        g.required.push(spec);
                    }
                }
            }
            _ => r.unknown(k, &within, ""),
        }
    }
    Some(g)
}

fn read_allowlist(
    r: &mut Reader<'_>,
    t: &Table,
    within: &str,
    global: bool,
) -> Option<AllowlistSpec> {
    let mut spec = AllowlistSpec::default();
    let mut and = false;
    let mut bad_patterns = false;
    let mut regexes = Vec::new();
    let mut paths = Vec::new();
    let mut commits = Vec::new();
    for (k, v) in t {
        match k.to_ascii_lowercase().as_str() {
            "description" => spec.description = r.string(k, v, within),
            "condition" => {
                let c = r.string(k, v, within)?;
                match c.to_ascii_uppercase().as_str() {
                    "AND" | "&&" => and = true,
                    "" | "OR" | "||" => {}
                    _ => {
                        let line = r.line_of_key(k);
                        r.note(
                            NoteKind::Problem,
                            line,
                            format!(
                                "condition `{}` in {within} is not AND or OR: the allowlist is ignored",
                                c.escape_debug()
                            ),
                        );
                        return None;
                    }
                }
            }
            "regextarget" => {
                let target = r.string(k, v, within)?;
                match target.as_str() {
                    "" | "secret" => {}
                    "match" | "line" => spec.regex_target = Some(target),
                    _ => {
                        let line = r.line_of_key(k);
                        r.note(
                            NoteKind::Problem,
                            line,
                            format!(
                                "regexTarget `{}` in {within} is not secret, match or line: the allowlist is ignored",
                                target.escape_debug()
                            ),
                        );
                        return None;
                    }
                }
            }
            "regexes" => regexes = r.strings(k, v, within),
            "paths" => paths = r.strings(k, v, within),
            "commits" => commits = r.strings(k, v, within),
            "stopwords" => spec.stopwords = r.strings(k, v, within),
            "targetrules" if global => spec.rules = r.strings(k, v, within),
            _ => r.unknown(k, within, ""),
        }
    }
    for re in regexes {
        match go_regex(&re) {
            Ok((fixed, rewritten)) => {
                if rewritten {
                    r.note(NoteKind::Info, None, format!("{within}: regex `{}` rewritten for Rust as `{}` (Go reads a `{{` that starts no repetition as a literal)", re.escape_debug(), fixed.escape_debug()));
                }
                spec.regexes.push(fixed)
            }
            Err(e) => {
                bad_patterns = true;
                r.note(
                    NoteKind::Problem,
                    None,
                    format!(
                        "{within}: regex `{}` does not compile here (Go RE2 and Rust regex differ in places): {}",
                        re.escape_debug(),
                        first_line(&e)
                    ),
                );
            }
        }
    }
    for p in paths {
        let compiled = go_regex(&p).map(|(fixed, _)| fixed);
        if looks_like_glob(&p) {
            r.note(
                NoteKind::Problem,
                None,
                format!(
                    "{within}: path `{}` looks like a glob, but allowlist paths are regexes{} (did you mean `{}`?)",
                    p.escape_debug(),
                    if compiled.is_ok() { " (it matches other paths than you may think)" } else { "" },
                    glob_to_regex(&p)
                ),
            );
        }
        match compiled {
            Ok(fixed) => spec.paths.push(fixed),
            Err(e) => {
                bad_patterns = true;
                if !looks_like_glob(&p) {
                    r.note(
                        NoteKind::Problem,
                        None,
                        format!(
                            "{within}: path regex `{}` does not compile here: {}",
                            p.escape_debug(),
                            first_line(&e)
                        ),
                    );
                }
            }
        }
    }
    for c in commits {
        let c = c.trim().to_ascii_lowercase();
        if (7..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()) {
            spec.commits.push(c);
        } else {
            bad_patterns = true;
            r.note(
                NoteKind::Problem,
                None,
                format!(
                    "{within}: `{}` is not a commit id: dropped",
                    c.escape_debug()
                ),
            );
        }
    }
    if and {
        // Dropping one condition of an AND list would widen what it allows: drop it all.
        if bad_patterns {
            r.note(
                NoteKind::Problem,
                None,
                format!("{within}: condition AND with a pattern dropped: the allowlist is ignored"),
            );
            return None;
        }
        spec.condition = Some("and".into());
    }
    if spec.is_empty() {
        if !bad_patterns {
            r.note(
                NoteKind::Problem,
                None,
                format!("{within} lists nothing (gitleaks refuses it): ignored"),
            );
        }
        return None;
    }
    Some(spec)
}

fn convert_rule(
    r: &mut Reader<'_>,
    g: GRule,
    builtins: &[RuleSpec],
    derived: &mut Vec<String>,
    first_group: &mut Vec<String>,
) -> Option<RuleSpec> {
    // Notes about a rule name the file it was read from.
    r.file = g.file.clone();
    let id = g.id.clone();
    let line = g.line;
    let problem = |r: &mut Reader<'_>, msg: String| {
        r.note(
            NoteKind::Problem,
            line,
            format!("rule `{}`: {msg}", id.escape_debug()),
        );
    };
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        problem(
            r,
            "keyhound rule ids are 1 to 128 letters, digits, `.`, `_` and `-`: not loaded".into(),
        );
        return None;
    }
    let builtin = builtins.iter().find(|b| b.id == id);
    let Some(regex) = g.regex.clone() else {
        // An amendment of a default rule: keyhound amends its own rule of the same id.
        if let Some(b) = builtin {
            let mut spec = b.clone();
            if let Some(d) = g.description {
                spec.description = d;
            }
            if g.entropy.is_some_and(|e| e > 0.0) {
                spec.entropy = g.entropy;
            }
            if g.path.is_some() {
                spec.path = g.path;
            }
            spec.allowlists.extend(g.allowlists);
            return Some(spec);
        }
        if g.path.is_some() {
            problem(r, "a rule with a path and no regex reports whole files in gitleaks; keyhound has no rule of that kind: not loaded".into());
        } else {
            problem(r, "no regex (it amends a gitleaks default rule that keyhound does not have): not loaded".into());
        }
        return None;
    };
    let (regex, compiled) = match go_regex(&regex) {
        Ok((fixed, rewritten)) => {
            if rewritten {
                r.note(NoteKind::Info, line, format!("rule `{id}`: regex rewritten for Rust (a `{{` that starts no repetition escaped, as Go reads it)"));
            }
            let c = build_regex(&fixed).expect("go_regex checked that it compiles");
            (fixed, c)
        }
        Err(e) => {
            problem(
                r,
                format!(
                    "its regex does not compile here (Go RE2 and Rust regex differ in places): {}: not loaded",
                    first_line(&e)
                ),
            );
            return None;
        }
    };
    let mut g = g;
    if let Some(p) = g.path.take() {
        match go_regex(&p) {
            Ok((fixed, _)) => g.path = Some(fixed),
            Err(e) => {
                problem(
                    r,
                    format!(
                        "its path regex does not compile here: {}: not loaded",
                        first_line(&e)
                    ),
                );
                return None;
            }
        }
    }
    let groups = compiled.captures_len() - 1;
    let secret_group = if g.group > 0 {
        if g.group as usize > groups {
            problem(
                r,
                format!(
                    "secretGroup {} does not exist (the regex has {groups} groups): not loaded",
                    g.group
                ),
            );
            return None;
        }
        Some(GroupRef::Index(g.group as usize))
    } else if groups > 0 {
        if groups > 1 {
            first_group.push(id.clone());
        }
        Some(GroupRef::Index(1))
    } else {
        None
    };
    let entropy = match g.entropy {
        Some(e) if e > 0.0 => {
            if e > 8.0 {
                problem(
                    r,
                    format!(
                        "entropy {e} is above 8 bits per byte (nothing could match): not loaded"
                    ),
                );
                return None;
            }
            Some(e)
        }
        _ => None,
    };
    let mut keywords = Vec::new();
    for k in &g.keywords {
        for casing in casings(k) {
            if !casing.is_empty() && !keywords.contains(&casing) {
                keywords.push(casing);
            }
        }
    }
    if keywords.is_empty() {
        match literal_prefixes(&regex) {
            Some(lits) => {
                derived.push(id.clone());
                keywords = lits;
            }
            None => {
                problem(r, "no keywords, and its regex starts with no literal of 3 or more characters: keyhound runs a rule only where a keyword occurs: not loaded (add `keywords`)".into());
                return None;
            }
        }
    }
    Some(RuleSpec {
        description: g
            .description
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| id.clone()),
        id,
        regex,
        secret_group,
        keywords,
        entropy,
        max_length: None,
        path: g.path,
        severity: None,
        generic: false,
        binary: None,
        packed: false,
        remediation: None,
        allowlist: None,
        allowlists: g.allowlists,
        revoke_url: builtin.and_then(|b| b.revoke_url.clone()),
        required: g.required,
        report: if g.skip_report { Some(false) } else { None },
        examples: Vec::new(),
        negative_examples: Vec::new(),
        example_path: None,
        check: None,
        verify: None,
    })
}

/// Compiles a Go RE2 regex as keyhound would: as written, else with the one rewrite that
/// keeps Go's meaning (a `{` that starts no repetition is a literal in Go, an error in Rust,
/// so it is escaped). Returns the source to use and whether it was rewritten.
fn go_regex(re: &str) -> std::result::Result<(String, bool), String> {
    let first = match build_regex(re) {
        Ok(_) => return Ok((re.to_string(), false)),
        Err(e) => e,
    };
    let fixed = escape_literal_braces(re);
    if fixed != re && build_regex(&fixed).is_ok() {
        return Ok((fixed, true));
    }
    Err(first)
}

/// Escapes each `{` outside a class that does not start `{n}`, `{n,}` or `{n,m}`.
fn escape_literal_braces(re: &str) -> String {
    let b = re.as_bytes();
    let mut out = String::with_capacity(re.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' => {
                let end = (i + 2).min(b.len());
                out.push_str(&re[i..end]);
                i = end;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                out.push('[');
                // `[]...]` and `[^]...]`: a `]` right after the opening is a literal.
                let mut j = i + 1;
                if b.get(j) == Some(&b'^') {
                    out.push('^');
                    j += 1;
                }
                if b.get(j) == Some(&b']') {
                    out.push(']');
                    j += 1;
                }
                i = j;
                continue;
            }
            b']' if in_class => in_class = false,
            b'{' if !in_class => {
                let rest = &re[i + 1..];
                let close = rest.find('}');
                let quantifier = close.is_some_and(|n| {
                    let inner = &rest[..n];
                    let (a, z) = inner.split_once(',').unwrap_or((inner, "0"));
                    !a.is_empty()
                        && a.bytes().all(|d| d.is_ascii_digit())
                        && z.bytes().all(|d| d.is_ascii_digit())
                });
                if !quantifier {
                    out.push_str("\\{");
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        let ch = re[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// A gitleaks keyword (matched case-insensitively there) in its usual casings.
fn casings(k: &str) -> Vec<String> {
    let lower = k.to_lowercase();
    let upper = k.to_uppercase();
    let mut chars = lower.chars();
    let capital = match chars.next() {
        Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    };
    vec![lower, upper, capital]
}

/// The literals every match of `regex` starts with, when there are few enough of them and
/// each is at least 3 bytes of UTF-8.
pub(crate) fn literal_prefixes(regex: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .ok()?;
    // Classes of more than two bytes end a literal (`[0-9]` would multiply them by ten);
    // two lets `(?i)` letters through as their two casings.
    let mut seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(2)
        .limit_total(64)
        .extract(&hir);
    seq.keep_first_bytes(64);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 64 {
        return None;
    }
    let mut out = Vec::new();
    for l in lits {
        if l.as_bytes().len() < 3 {
            return None;
        }
        let s = std::str::from_utf8(l.as_bytes()).ok()?.to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Some(out)
}

/// Whether a path pattern is probably a glob (`*.lock`, `**/vendor/**`), not a regex.
fn looks_like_glob(p: &str) -> bool {
    p.starts_with('*') || p.contains("**") || p.contains("/*.") || p.ends_with("/*")
}

/// The regex a glob most likely meant.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::new();
    let g = glob.strip_prefix("**/").unwrap_or(glob);
    if !g.starts_with('/') {
        out.push_str("(^|/)");
    }
    let mut chars = g.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '.' | '+' | '(' | ')' | '|' | '^' | '$' | '[' | ']' | '{' | '}' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if !out.ends_with(".*") {
        out.push('$');
    }
    out
}

fn first_line(s: &str) -> String {
    // The regex crate's errors span several lines (the pattern, a caret, the message).
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn syntax_line(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => {
            let line = text.as_bytes()[..span.start.min(text.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!(" (line {line})")
        }
        None => String::new(),
    }
}

/// Writes an imported file as keyhound TOML (a `.keyhound.toml`), its notes as comments at
/// the top.
pub fn render(imported: &Imported, source: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# keyhound config imported from {source} by `keyhound config import`.\n"
    ));
    if !imported.notes.is_empty() {
        out.push_str("#\n# What could not be carried exactly, and what was decided:\n");
        for n in &imported.notes {
            let kind = match n.kind {
                NoteKind::Problem => "PROBLEM",
                NoteKind::Approximate => "APPROXIMATE",
                NoteKind::Info => "NOTE",
            };
            let text = n.to_string().replace(['\n', '\r'], " ");
            out.push_str(&format!("# {kind}: {text}\n"));
        }
    }
    let f = &imported.file;
    if let Some(e) = &f.extend {
        out.push_str("\n[extend]\n");
        out.push_str(&format!("default = {}\n", e.default));
        if !e.disable.is_empty() {
            out.push_str(&format!("disable = {}\n", str_array(&e.disable)));
        }
    }
    for a in f.allowlist.iter().chain(&f.allowlists) {
        out.push_str("\n[[allowlists]]\n");
        write_allowlist(&mut out, a);
    }
    for rule in &f.rules {
        out.push_str("\n[[rules]]\n");
        out.push_str(&format!("id = {}\n", q(&rule.id)));
        out.push_str(&format!("description = {}\n", q(&rule.description)));
        out.push_str(&format!("regex = {}\n", q(&rule.regex)));
        match &rule.secret_group {
            Some(GroupRef::Index(i)) => out.push_str(&format!("secret_group = {i}\n")),
            Some(GroupRef::Name(n)) => out.push_str(&format!("secret_group = {}\n", q(n))),
            None => {}
        }
        out.push_str(&format!("keywords = {}\n", str_array(&rule.keywords)));
        if let Some(e) = rule.entropy {
            out.push_str(&format!("entropy = {e:?}\n"));
        }
        if let Some(m) = rule.max_length {
            out.push_str(&format!("max_length = {m}\n"));
        }
        if let Some(p) = &rule.path {
            out.push_str(&format!("path = {}\n", q(p)));
        }
        if let Some(s) = &rule.severity {
            out.push_str(&format!("severity = {}\n", q(s)));
        }
        if rule.generic {
            out.push_str("generic = true\n");
        }
        if let Some(b) = rule.binary {
            out.push_str(&format!("binary = {b}\n"));
        }
        if let Some(r) = &rule.remediation {
            out.push_str(&format!("remediation = {}\n", q(r)));
        }
        if let Some(u) = &rule.revoke_url {
            out.push_str(&format!("revoke_url = {}\n", q(u)));
        }
        if rule.report == Some(false) {
            out.push_str("report = false\n");
        }
        for a in rule.allowlist.iter().chain(&rule.allowlists) {
            out.push_str("\n[[rules.allowlists]]\n");
            write_allowlist(&mut out, a);
        }
        for req in &rule.required {
            out.push_str("\n[[rules.required]]\n");
            out.push_str(&format!("id = {}\n", q(&req.id)));
            if let Some(n) = req.within_lines {
                out.push_str(&format!("within_lines = {n}\n"));
            }
            if let Some(n) = req.within_columns {
                out.push_str(&format!("within_columns = {n}\n"));
            }
        }
    }
    out
}

fn write_allowlist(out: &mut String, a: &AllowlistSpec) {
    if let Some(d) = &a.description {
        out.push_str(&format!("description = {}\n", q(d)));
    }
    if let Some(c) = &a.condition {
        out.push_str(&format!("condition = {}\n", q(c)));
    }
    if !a.rules.is_empty() {
        out.push_str(&format!("rules = {}\n", str_array(&a.rules)));
    }
    if !a.paths.is_empty() {
        out.push_str(&format!("paths = {}\n", str_array(&a.paths)));
    }
    if let Some(t) = &a.regex_target {
        out.push_str(&format!("regex_target = {}\n", q(t)));
    }
    if !a.regexes.is_empty() {
        out.push_str(&format!("regexes = {}\n", str_array(&a.regexes)));
    }
    if !a.stopwords.is_empty() {
        out.push_str(&format!("stopwords = {}\n", str_array(&a.stopwords)));
    }
    if !a.commits.is_empty() {
        out.push_str(&format!("commits = {}\n", str_array(&a.commits)));
    }
}

/// A TOML string: a literal string when it can be one (regexes stay readable), else a
/// basic string with escapes.
fn q(s: &str) -> String {
    if !s.contains('\'') && !s.chars().any(|c| c.is_control()) {
        format!("'{s}'")
    } else {
        Value::String(s.to_string()).to_string()
    }
}

fn str_array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// keyhound's built-in rules as specs (what a gitleaks amendment of a default rule amends).
pub fn builtin_specs() -> Result<Vec<RuleSpec>> {
    let mut out = Vec::new();
    for (name, text) in crate::rules::builtin::FILES {
        out.extend(RuleFile::parse(&format!("builtin:{name}"), text)?.rules);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_load(_: &str) -> std::result::Result<(String, String), String> {
        Err("not here".into())
    }

    #[test]
    fn keywords_become_their_usual_casings_or_come_from_the_regex() {
        assert_eq!(casings("apiKey"), ["apikey", "APIKEY", "Apikey"]);
        assert_eq!(literal_prefixes("zorp-[0-9]{8}").unwrap(), ["zorp-"]);
        assert!(literal_prefixes("[a-z]{30}").is_none());
    }

    #[test]
    fn go_literal_braces_are_escaped_and_nothing_else_changes() {
        assert_eq!(
            escape_literal_braces(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+})$"
        );
        assert_eq!(
            escape_literal_braces(r"a{2,3}[{x]\{b{,1}"),
            r"a{2,3}[{x]\{b\{,1}"
        );
        let (fixed, rewritten) = go_regex(r"import[ \t]+{[ \t\w,]+}[ \t]+from").unwrap();
        assert!(rewritten);
        let re = build_regex(&fixed).unwrap();
        assert!(re.is_match(b"import { a, b } from"));
        assert_eq!(go_regex("ab{2}").unwrap(), ("ab{2}".to_string(), false));
        assert!(go_regex("(unclosed").is_err());
    }

    #[test]
    fn globs_get_the_regex_they_meant() {
        assert!(looks_like_glob("*.lock") && looks_like_glob("**/vendor/**"));
        assert!(!looks_like_glob("(^|/)vendor/"));
        let re = build_regex(&glob_to_regex("*.lock")).unwrap();
        assert!(re.is_match(b"a/Cargo.lock") && !re.is_match(b"lockfile"));
    }

    #[test]
    fn format_is_told_by_name_then_content() {
        assert!(looks_like_gitleaks("x/.gitleaks.toml", ""));
        assert!(!looks_like_gitleaks(".keyhound.toml", "title = 'x'"));
        assert!(looks_like_gitleaks(
            "c.toml",
            "[extend]\nuseDefault = true\n"
        ));
        assert!(!looks_like_gitleaks(
            "c.toml",
            "[[rules]]\nid='a'\ndescription='d'\nregex='x'\nkeywords=['x']\n[rules.verify]\nurl='https://h'\nheaders = { Authorization = 'x' }\n"
        ));
    }

    #[test]
    fn an_imported_file_reads_back_as_keyhound_format() {
        let text = "[[rules]]\nid='aux'\nregex='auxid_[a-z]{9}'\nkeywords=['auxid_']\nskipReport=true\n[[rules]]\nid='main'\nregex='main_[a-z]{9}'\nkeywords=['main_']\n[[rules.required]]\nid='aux'\nwithinLines=1\n[[allowlists]]\ntargetRules=['main']\nregexTarget='line'\nregexes=['x']\n";
        let imported = translate("g.toml", text, &[], &mut no_load).unwrap();
        let out = render(&imported, "g.toml");
        assert!(!looks_like_gitleaks("k.toml", &out), "{out}");
        let back = RuleFile::parse("k.toml", &out).unwrap();
        assert_eq!(back.rules[1].required, imported.file.rules[1].required);
        assert_eq!(back.rules[0].report, Some(false));
        assert_eq!(back.allowlists[0].rules, ["main"]);
    }

    #[test]
    fn an_extended_file_is_merged_the_gitleaks_way() {
        let base = "[[rules]]\nid='acme'\ndescription='base'\nregex='acme_[a-z]{9}'\nkeywords=['acme_']\n[[rules]]\nid='gone'\nregex='gone_[a-z]{9}'\nkeywords=['gone_']\n";
        let top = "[extend]\npath='base.toml'\ndisabledRules=['gone']\n[[rules]]\nid='acme'\n[[rules.allowlists]]\nstopwords=['test']\n";
        let mut load = |p: &str| -> std::result::Result<(String, String), String> {
            assert_eq!(p, "base.toml");
            Ok(("base.toml".into(), base.into()))
        };
        let out = translate("top.toml", top, &[], &mut load).unwrap();
        let ids: Vec<&str> = out.file.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["acme"]);
        let acme = &out.file.rules[0];
        assert_eq!(acme.regex, "acme_[a-z]{9}");
        assert_eq!(acme.allowlists[0].stopwords, ["test"]);
        // A path that cannot be read is a problem, not an error.
        let out = translate("top.toml", top, &[], &mut no_load).unwrap();
        assert!(out.has_problems());
    }
}
