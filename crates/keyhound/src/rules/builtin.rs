//! The built-in rule pack: `rules/*.toml` at the repository root, embedded at compile time.

/// `(name, TOML text)` of every built-in rule file, in load order. generic.toml comes last:
/// where two generic rules report the same span, the one loaded first is kept, and a
/// provider's context rule should win over the catch-all assignment rule.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("openai.toml", include_str!("../../../../rules/openai.toml")),
    (
        "anthropic.toml",
        include_str!("../../../../rules/anthropic.toml"),
    ),
    ("ai.toml", include_str!("../../../../rules/ai.toml")),
    (
        "ai-platforms.toml",
        include_str!("../../../../rules/ai-platforms.toml"),
    ),
    ("cloud.toml", include_str!("../../../../rules/cloud.toml")),
    ("vcs.toml", include_str!("../../../../rules/vcs.toml")),
    ("saas.toml", include_str!("../../../../rules/saas.toml")),
    ("keys.toml", include_str!("../../../../rules/keys.toml")),
    ("data.toml", include_str!("../../../../rules/data.toml")),
    (
        "messaging.toml",
        include_str!("../../../../rules/messaging.toml"),
    ),
    ("deploy.toml", include_str!("../../../../rules/deploy.toml")),
    (
        "productivity.toml",
        include_str!("../../../../rules/productivity.toml"),
    ),
    (
        "identity.toml",
        include_str!("../../../../rules/identity.toml"),
    ),
    ("speech.toml", include_str!("../../../../rules/speech.toml")),
    ("tokens.toml", include_str!("../../../../rules/tokens.toml")),
    ("agents.toml", include_str!("../../../../rules/agents.toml")),
    (
        "generic.toml",
        include_str!("../../../../rules/generic.toml"),
    ),
];

/// The same files as [`FILES`], in the same order, converted to JSON at build time
/// (`build.rs`): what [`super::RuleSet::builtin`] loads, several times faster to parse.
pub(crate) const JSON: &[(&str, &str)] = &[
    (
        "openai.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/openai.json")),
    ),
    (
        "anthropic.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/anthropic.json")),
    ),
    (
        "ai.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/ai.json")),
    ),
    (
        "ai-platforms.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/ai-platforms.json")),
    ),
    (
        "cloud.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/cloud.json")),
    ),
    (
        "vcs.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/vcs.json")),
    ),
    (
        "saas.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/saas.json")),
    ),
    (
        "keys.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/keys.json")),
    ),
    (
        "data.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/data.json")),
    ),
    (
        "messaging.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/messaging.json")),
    ),
    (
        "deploy.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/deploy.json")),
    ),
    (
        "productivity.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/productivity.json")),
    ),
    (
        "identity.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/identity.json")),
    ),
    (
        "speech.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/speech.json")),
    ),
    (
        "tokens.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/tokens.json")),
    ),
    (
        "agents.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/agents.json")),
    ),
    (
        "generic.toml",
        include_str!(concat!(env!("OUT_DIR"), "/rules/generic.json")),
    ),
];

/// A built-in rule's `examples` and `negative_examples`, by rule id. `build.rs` leaves them
/// out of [`JSON`] (two fifths of its bytes, parsed on every run though only `rules check` and
/// tests read them) and writes them to one more JSON file, parsed the first time one is asked
/// for.
pub(crate) fn examples(id: &str) -> Option<&'static (Vec<String>, Vec<String>)> {
    type ById = std::collections::HashMap<String, (Vec<String>, Vec<String>)>;
    static EXAMPLES: std::sync::OnceLock<ById> = std::sync::OnceLock::new();
    EXAMPLES
        .get_or_init(|| {
            // Written by build.rs from the rule files; `the_examples_are_the_toml_examples`
            // checks it parses.
            serde_json::from_str(include_str!(concat!(
                env!("OUT_DIR"),
                "/rules/examples.json"
            )))
            .unwrap_or_default()
        })
        .get(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rule_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/ exists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        let json: Vec<&str> = super::JSON.iter().map(|(n, _)| *n).collect();
        let toml: Vec<&str> = super::FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(json, toml, "the JSON table follows the TOML one");
    }

    /// The JSON rules are the TOML rules but for their examples, which are in the examples
    /// file, each rule's own.
    #[test]
    fn the_json_rules_are_the_toml_rules() {
        let mut with_examples = 0;
        for ((name, toml), (_, json)) in super::FILES.iter().zip(super::JSON) {
            let mut a = crate::rules::syntax::RuleFile::parse(name, toml).expect("TOML parses");
            let b =
                crate::rules::syntax::RuleFile::parse_embedded(name, json).expect("JSON parses");
            for rule in &mut a.rules {
                let examples = std::mem::take(&mut rule.examples);
                let negative = std::mem::take(&mut rule.negative_examples);
                with_examples += usize::from(!examples.is_empty());
                let (e, n) = super::examples(&rule.id).expect("the examples file has every rule");
                assert_eq!((&examples, &negative), (e, n), "{name}: {}", rule.id);
            }
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{name}");
        }
        assert!(with_examples > 100, "{with_examples}");
    }
}
