//! The built-in rule pack, driven by the rule files themselves: every example of every rule
//! yields a finding of that rule (through the prefilter), every negative example yields none;
//! and the hard negatives users hate to triage yield nothing at all.

use keyhound::rules::examples::{self, expand};
use keyhound::{RuleSet, Scanner};

fn scanner() -> Scanner {
    Scanner::new(RuleSet::builtin().expect("built-in rules load"))
}

#[test]
fn every_builtin_example_and_negative_example_holds() {
    let s = scanner();
    s.rules().check_all().expect("all built-in regexes compile");
    let failures = examples::check(&s);
    let text: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        text.join("\n")
    );
}

#[test]
fn every_rule_has_examples_negatives_and_remediation() {
    let s = scanner();
    for r in s.rules().rules() {
        assert!(!r.examples.is_empty(), "{} has no examples", r.id);
        assert!(
            !r.negative_examples.is_empty(),
            "{} has no negative examples",
            r.id
        );
        assert!(r.remediation.len() > 20, "{} has no remediation", r.id);
        for k in &r.keywords {
            assert!(
                k.len() >= 3,
                "{}: keyword {k:?} is too short to be distinctive",
                r.id
            );
        }
    }
}

#[test]
fn ai_provider_rules_say_where_to_revoke() {
    let s = scanner();
    for r in s.rules().rules() {
        let ai = [
            "openai",
            "anthropic",
            "gemini",
            "google",
            "huggingface",
            "groq",
            "xai",
            "openrouter",
            "perplexity",
            "replicate",
            "deepseek",
            "mistral",
            "cohere",
            "azure",
        ]
        .iter()
        .any(|p| r.id.starts_with(p));
        if ai {
            assert!(
                r.remediation.contains("https://") || r.remediation.contains("portal"),
                "{}: {}",
                r.id,
                r.remediation
            );
        }
    }
}

fn findings(text: &str, path: &str) -> Vec<String> {
    let s = scanner();
    let mut m = s.matcher();
    s.scan_content(&mut m, path, text.as_bytes())
        .findings
        .into_iter()
        .map(|f| format!("{} {}", f.rule_id, f.secret))
        .collect()
}

#[test]
fn hard_negatives_yield_nothing() {
    let cases = [
        "OPENAI_API_KEY=sk-{rep:x:48}",
        "OPENAI_API_KEY=sk-...",
        "api_key = \"<your key>\"",
        "api_key: ${OPENAI_API_KEY}",
        "api_key = os.environ[\"OPENAI_API_KEY\"]",
        "const apiKey = process.env.OPENAI_API_KEY;",
        "OPENAI_API_KEY=your-key-here",
        "password: REDACTED",
        "token = \"aaaaaaaaaaaaaaaaaaaaaaaa\"",
        "secret = \"abcdefghijklmnopqrstuvwxyz\"",
        "token = \"0123456789012345678901234\"",
        "session_token_id = \"123e4567-e89b-12d3-a456-426614174000\"",
        "secret_hash = \"{hex:64}\"",
        "\"integrity\": \"sha512-{base64:86}==\"",
        "password = \"data:image/png;base64,{base64:40}\"",
        "password = \"correcthorse\"",
        "token = get_token()",
        "def login(password: str) -> None:",
        "key = \"sk-{hex:32}\"",
    ];
    for template in cases {
        for seed in examples::CHECK_SEEDS {
            let text = expand(template, seed).unwrap();
            let found = findings(&text, "config.py");
            assert!(found.is_empty(), "{text:?} gave {found:?}");
        }
    }
}

#[test]
fn deepseek_key_needs_context() {
    let key = expand("sk-{hex:32}", 9).unwrap();
    assert!(findings(&format!("key = \"{key}\""), "a.py").is_empty());
    let found = findings(&format!("DEEPSEEK_API_KEY=\"{key}\""), "a.py");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("deepseek"), "{found:?}");
}

#[test]
fn one_secret_one_finding() {
    let key = expand("sk-proj-{base64url:74}T3BlbkFJ{base64url:74}", 5).unwrap();
    for text in [
        format!("api_key = \"{key}\""),
        format!("curl -H \"Authorization: Bearer {key}\" https://api.openai.com/v1/models"),
        format!("OPENAI_API_KEY={key}"),
    ] {
        let found = findings(&text, "x.sh");
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert!(found[0].starts_with("openai-project-key "), "{found:?}");
    }
}
