//! The built-in rule pack, driven by the rule files themselves: every example of every rule
//! yields a finding of that rule (through the prefilter), every negative example yields none;
//! and the hard negatives users hate to triage yield nothing at all.

use keyhound::rules::examples::{self, expand};
use keyhound::{RuleSet, Scanner};

fn scanner() -> Scanner {
    Scanner::new(RuleSet::builtin().expect("built-in rules load"))
}

/// Asserts that no template of `cases`, expanded with every check seed, is a finding at `path`.
fn assert_no_findings(cases: &[&str], path: &str) {
    for template in cases {
        for seed in examples::CHECK_SEEDS {
            let text = expand(template, seed).expect("the template expands");
            let found = findings(&text, path);
            assert!(found.is_empty(), "{text:?} gave {found:?}");
        }
    }
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
        assert!(!r.examples().is_empty(), "{} has no examples", r.id);
        assert!(
            !r.negative_examples().is_empty(),
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
            "together",
            "cerebras",
            "minimax",
            "nvidia",
            "langsmith",
            "wandb",
            "devin",
            "elevenlabs",
            "moonshot",
            "zhipu",
            "cursor",
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
    assert_no_findings(&cases, "config.py");
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

fn assessed(text: &str, path: &str) -> Vec<keyhound::Finding> {
    let s = scanner();
    let mut m = s.matcher();
    s.scan_content(&mut m, path, text.as_bytes()).findings
}

#[test]
fn published_example_values_are_value_fixtures() {
    // Assembled at run time so that the repository holds no key-shaped literal.
    let cases = [
        (
            "google-api-key",
            format!(
                "apiKey: \"{}\",",
                ["AIzaSyBNHCyZ-bpv", "-WA-HpXTmigJm2aq3z1kaH8"].concat()
            ),
        ),
        (
            "supabase-secret-key",
            format!(
                "SUPABASE_SECRET_KEY={}  # supabase start",
                ["sb_secret_N7UND0Ugj", "KTVK-Uodkm0Hg_xSvEMPvz"].concat()
            ),
        ),
        (
            "azure-storage-account-key",
            format!(
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={};",
                [
                    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2U",
                    "VErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
                ]
                .concat()
            ),
        ),
        (
            "telegram-bot-token",
            format!(
                "TELEGRAM_BOT_TOKEN={}",
                ["110201543:AAHdqTcvCH1v", "GWJxfSeofSAs0K5PALDsaw"].concat()
            ),
        ),
    ];
    for (rule, text) in cases {
        let found = assessed(&text, "src/app.js");
        let f = found
            .iter()
            .find(|f| f.rule_id == rule)
            .unwrap_or_else(|| panic!("{rule}: not found in {text:?}: {found:?}"));
        assert_eq!(
            f.fixture,
            Some(keyhound::evidence::Fixture::Value),
            "{rule}"
        );
        assert_eq!(f.confidence, keyhound::evidence::Confidence::Low, "{rule}");
    }
}

#[test]
fn sk_live_keys_of_other_providers_are_not_stripe() {
    let stripe_old = expand("sk_live_{alnum:24}", 3).unwrap();
    let stripe_new = expand("sk_live_51{alnum:97}", 3).unwrap();
    let clerk = expand("sk_live_{alnum:42}", 3).unwrap();
    let highnote = expand("sk_live_a2V5Xz{base64:69}=", 3).unwrap();
    for key in [&stripe_old, &stripe_new] {
        let found = findings(&format!("STRIPE_SECRET_KEY={key}"), "a.env");
        assert_eq!(found, vec![format!("stripe-secret-key {key}")]);
    }
    // A Clerk key is Clerk's where Clerk is named, and nobody's elsewhere.
    let found = findings(&format!("CLERK_SECRET_KEY={clerk}"), "a.env");
    assert_eq!(found, vec![format!("clerk-secret-key {clerk}")]);
    assert!(findings(&format!("SECRET={clerk}"), "a.env")
        .iter()
        .all(|f| !f.starts_with("stripe")));
    let found = findings(&format!("HIGHNOTE_API_KEY=\"{highnote}\""), "a.env");
    assert!(found.iter().all(|f| !f.starts_with("stripe")), "{found:?}");
}

#[test]
fn provider_database_urls_win_over_url_password() {
    let cases = [
        (
            "mongodb-atlas-url",
            "MONGODB_URI=mongodb+srv://app:{alnum:16}@cluster0.{lowernum:5}.mongodb.net/app",
        ),
        (
            "neon-database-url",
            "DATABASE_URL=postgresql://app:{alnum:16}@ep-{lowernum:12}.us-east-2.aws.neon.tech/neondb",
        ),
        (
            "supabase-database-url",
            "DATABASE_URL=postgresql://postgres:{alnum:16}@db.{lowernum:20}.supabase.co:5432/postgres",
        ),
        (
            "upstash-redis-url",
            "REDIS_URL=rediss://default:{alnum:32}@{lower:6}-{digits:5}.upstash.io:6379",
        ),
        (
            "planetscale-token",
            "DATABASE_URL=mysql://{lowernum:12}:pscale_pw_{base64url:43}@aws.connect.psdb.cloud/app",
        ),
    ];
    for (rule, template) in cases {
        for seed in examples::CHECK_SEEDS {
            let text = expand(template, seed).unwrap();
            let found = assessed(&text, "config/.env");
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].rule_id, rule, "{text}");
            assert_eq!(found[0].confidence, keyhound::evidence::Confidence::High);
        }
    }
    // Elsewhere the generic rule still reports the password.
    let text = expand("DATABASE_URL=postgresql://app:{alnum:16}@db.acme.io/app", 1).unwrap();
    let found = findings(&text, "config/.env");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("url-password "), "{found:?}");
}

#[test]
fn digit_heavy_prefixed_tokens_pass_their_entropy_floor() {
    // Random tokens of these shapes are mostly digits: a floor fitted to free-form values
    // drops a few in a hundred. Every one of them must be found.
    let cases = [
        (
            "slack-legacy-token",
            "SLACK_TOKEN=xoxs-{digits:12}-{digits:12}-{digits:12}-{hex:10}",
        ),
        (
            "slack-legacy-token",
            "t: xoxo-{digits:6}-{digits:6}-{digits:6}-{hex:20}",
        ),
        (
            "telegram-bot-token",
            "TELEGRAM_BOT_TOKEN={digits:10}:AA{base64url:33}",
        ),
    ];
    let s = scanner();
    let mut m = s.matcher();
    for (rule, template) in cases {
        for seed in 0..600 {
            let text = expand(template, seed).unwrap();
            let found = s.scan_content(&mut m, "bot.env", text.as_bytes()).findings;
            assert!(
                found.iter().any(|f| f.rule_id == rule),
                "{text:?} (seed {seed}) not found by {rule}: {found:?}"
            );
        }
    }
}

#[test]
fn generic_assignment_forms_and_long_values_are_medium() {
    // Issue 24: forms the generic rule missed, and values over 200 characters.
    let cases = [
        "API_TOKEN={alnum:100}{digits:1}{alnum:100}",
        "refresh_token: \"{base64url:1000}{digits:2}\"",
        "body = \"{\\\"password\\\": \\\"{alnum:10}{digits:3}{alnum:8}\\\"}\\n\"",
        "<settings>\n  <password>{alnum:12}{digits:2}{alnum:8}</password>\n</settings>\n",
        "var apiKey string = \"{alnum:18}{digits:2}{alnum:10}\"",
        "$secret .= \"{alnum:18}{digits:2}{alnum:10}\";",
        "props.setProperty(\"api.key\", \"{alnum:18}{digits:2}{alnum:10}\");",
        "API_TOKEN ::= {alnum:18}{digits:2}{alnum:10}",
        "API_TOKEN :::= {alnum:18}{digits:2}{alnum:10}",
        "API_TOKEN ?= {alnum:18}{digits:2}{alnum:10}",
        "deploy:\n  secret: |\n    {alnum:18}{digits:2}{alnum:10}\n",
        "auth = \"{alnum:18}{digits:2}{alnum:10}\"",
        "credentials = \"{alnum:18}{digits:2}{alnum:10}\"",
        "creds: {alnum:18}{digits:2}{alnum:10}",
        "private-key: {alnum:18}{digits:2}{alnum:10}",
        "SUPABASE_SERVICE_ROLE_KEY={alnum:18}{digits:2}{alnum:10}",
        "aws.secretkey={alnum:18}{digits:2}{alnum:10}",
    ];
    let s = scanner();
    let mut m = s.matcher();
    for template in cases {
        for seed in 0..40 {
            let text = expand(template, seed).unwrap();
            let found = s
                .scan_content(&mut m, "config/app.conf", text.as_bytes())
                .findings;
            assert!(
                found.iter().any(|f| f.rule_id == "generic-api-key"
                    && f.confidence == keyhound::evidence::Confidence::Medium),
                "{text:?}: {:?}",
                found
                    .iter()
                    .map(|f| (&f.rule_id, f.confidence))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn auth_and_key_words_count_only_as_the_assigned_name() {
    let cases = [
        "author = \"{alnum:18}{digits:2}{alnum:10}\"",
        "auth_type = \"{alnum:18}{digits:2}{alnum:10}\"",
        "oauth_state = \"{alnum:18}{digits:2}{alnum:10}\"",
        "SSH_KEY_ID = \"{alnum:18}{digits:2}{alnum:10}\"",
        "API_TOKEN={alnum:5000}",
        "let parsed: Vec<Token> = lexer.tokens_from(source);",
    ];
    assert_no_findings(&cases, "config/app.conf");
}

#[test]
fn basic_auth_token_schemes_and_curl_user_are_found() {
    let cases = [
        (
            "basic-auth-header",
            "curl -H \"Authorization: Basic {b64basic:deploy:20}\" https://ci.acme.io/",
        ),
        (
            "basic-auth-header",
            "headers = {'Authorization': 'Basic {b64basic::24}'}",
        ),
        (
            "bearer-token",
            "curl -H \"Authorization: Token {alnum:38}{digits:2}\" https://api.acme.io/",
        ),
        (
            "curl-user-password",
            "curl -fsS -u ci:{alnum:14}{digits:2} https://nexus.acme.io/repository/x",
        ),
    ];
    let s = scanner();
    let mut m = s.matcher();
    for (rule, template) in cases {
        for seed in 0..40 {
            let text = expand(template, seed).unwrap();
            let found = s
                .scan_content(&mut m, "deploy.sh", text.as_bytes())
                .findings;
            assert!(
                found
                    .iter()
                    .any(|f| f.rule_id == rule
                        && f.confidence == keyhound::evidence::Confidence::Medium),
                "{text:?}: {:?}",
                found
                    .iter()
                    .map(|f| (&f.rule_id, f.confidence))
                    .collect::<Vec<_>>()
            );
        }
    }
    for template in [
        "Authorization: Basic {b64:user:password}",
        "Authorization: Basic {b64:user:$TOKEN}",
        "Authorization: Basic {b64:user:<token>}",
        "curl -H \"Authorization: Basic ${TOKEN}\" https://api.acme.io",
        "curl -u user:password https://example.com",
        "curl -u user:${TOKEN} https://example.com",
        "curl -u user:<token> https://example.com",
        "curl -H \"Authorization: Token $TOKEN\" https://api.acme.io",
    ] {
        let text = expand(template, 1).unwrap();
        let found = s
            .scan_content(&mut m, "deploy.sh", text.as_bytes())
            .findings;
        assert!(found.is_empty(), "{text:?} gave {found:?}");
    }
}
