//! The built-in rule pack: `rules/*.toml` at the repository root, embedded at compile time.

/// `(name, TOML text)` of every built-in rule file, in load order.
pub const FILES: &[(&str, &str)] = &[
    ("openai.toml", include_str!("../../../../rules/openai.toml")),
    (
        "anthropic.toml",
        include_str!("../../../../rules/anthropic.toml"),
    ),
    ("ai.toml", include_str!("../../../../rules/ai.toml")),
    ("cloud.toml", include_str!("../../../../rules/cloud.toml")),
    ("vcs.toml", include_str!("../../../../rules/vcs.toml")),
    ("saas.toml", include_str!("../../../../rules/saas.toml")),
    ("keys.toml", include_str!("../../../../rules/keys.toml")),
    ("tokens.toml", include_str!("../../../../rules/tokens.toml")),
    ("agents.toml", include_str!("../../../../rules/agents.toml")),
    (
        "generic.toml",
        include_str!("../../../../rules/generic.toml"),
    ),
];

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
    }
}
