//! Keys packed against other bytes: in a binary record or minified text a key may sit between
//! letters and digits with no separator. Rules whose secret carries a marker (`packed = true`)
//! still find it there; context rules keep their boundaries, so a value glued into an
//! identifier is not a finding.

use crate::util::*;

/// A classic GitHub token whose CRC32 checksum holds.
fn ghp() -> String {
    let body = random(ALNUM, 30);
    let check = base62_6(crc32fast::hash(body.as_bytes()));
    [&["gh", "p_"].concat(), body.as_str(), check.as_str()].concat()
}

/// A fake Anthropic API key (real format, random body).
fn anthropic_key() -> String {
    [
        &["sk-", "ant-", "api03-"].concat(),
        random(B64URL, 93).as_str(),
        "AA",
    ]
    .concat()
}

/// A page shaped like SQLite's: the file header, a b-tree page header and cells whose text
/// columns run into each other and into the record bytes around them.
fn sqlite_page(cells: &[String]) -> Vec<u8> {
    let mut page = b"SQLite format 3\0".to_vec();
    page.extend_from_slice(&[0x10, 0x00, 0x01, 0x01, 0x00, 0x40, 0x20, 0x20]);
    page.resize(100, 0);
    page.extend_from_slice(&[0x0d, 0x00, 0x00, 0x00, cells.len() as u8, 0x0f, 0x00, 0x00]);
    for (i, cell) in cells.iter().enumerate() {
        page.extend_from_slice(&[0x00, 0x81, 0x17, i as u8 + 1, 0x05, 0x17]);
        page.extend_from_slice(b"rowid");
        page.extend_from_slice(cell.as_bytes());
        page.extend_from_slice(b"Zq7\x00\x00");
    }
    page.resize(4096, 0);
    page
}

fn rule_ids(dir: &std::path::Path, target: &str, code: i32) -> Vec<String> {
    let v = run_json(
        keyhound()
            .args(["scan", "-f", "json", target])
            .current_dir(dir),
        code,
    );
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn marker_keys_glued_inside_a_binary_page_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let cells = [
        format!("token{}", openai_project_key()),
        format!("x9{}", anthropic_key()),
        format!("gh{}", ghp()),
    ];
    let page = sqlite_page(&cells);
    assert!(page.contains(&0), "the page must read as binary");
    write(dir.path(), "cache/app.db", &page);
    let ids = rule_ids(dir.path(), "cache/app.db", 1);
    assert_eq!(
        ids,
        ["anthropic-api-key", "github-pat", "openai-project-key"],
        "{ids:?}"
    );
}

#[test]
fn marker_key_glued_in_minified_text_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let key = openai_legacy_key();
    write(
        dir.path(),
        "dist/app.min.js",
        format!("var a=1;function b(){{return\"v2{key}0x\"}}var c=2;\n"),
    );
    let ids = rule_ids(dir.path(), "dist/app.min.js", 1);
    assert_eq!(ids, ["openai-legacy-key"], "{ids:?}");
}

#[test]
fn context_rule_value_glued_in_an_identifier_is_not_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let hex = random(HEX, 32);
    let alnum = random(ALNUM, 32);
    // Bounded, the same values are findings: the rules are in force.
    write(
        dir.path(),
        "bounded/config.py",
        format!("DEEPSEEK_API_KEY = \"sk-{hex}\"\nMISTRAL_API_KEY = \"{alnum}\"\n"),
    );
    let ids = rule_ids(dir.path(), "bounded", 1);
    assert_eq!(ids, ["deepseek-api-key", "mistral-api-key"], "{ids:?}");
    // Glued into identifiers and CSS classes, they are not.
    write(
        dir.path(),
        "glued/widget.js",
        format!(
            "render(DeepSeekPanelsk-{hex}Header);\n\
             const el = `<div class=\"MistralCard{alnum}\">`;\n"
        ),
    );
    let ids = rule_ids(dir.path(), "glued", 0);
    assert!(ids.is_empty(), "{ids:?}");
}

/// An AWS key id is not `packed`: capitals glued in a binary (the Unicode name tables of a
/// shared library) are words, not keys; a key id with its boundaries is still found.
#[test]
fn capitals_glued_in_a_binary_are_not_aws_key_ids() {
    let dir = tempfile::tempdir().unwrap();
    let table = [
        "ASIAN",
        "ABUNDANCE",
        "AKIA",
        "ISLANDISH",
        "ACCATO",
        "STALLIONS",
    ]
    .concat();
    let page = sqlite_page(&[table, format!(" {} ", aws_key_id())]);
    write(dir.path(), "lib/names.so", &page);
    let ids = rule_ids(dir.path(), "lib/names.so", 1);
    assert_eq!(ids, ["aws-access-key-id"], "{ids:?}");
}
