//! End-to-end tests: the credentials without a provider marker that real repositories leak
//! (JSON Web Tokens, UUID- and hex-shaped keys under credential names, session cookies,
//! account lists, odd slots) are reported at medium or high, and what only looks like them
//! (ids and digests, CSRF tokens, references, vendored defaults, a provider word in another
//! statement) is not. Tokens are built at run time from JSON composed here.

use crate::util::*;
use base64::Engine;
use serde_json::Value;

/// Unpadded base64url of `json`.
fn b64(json: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// A signed token (HS256) with these claims and a random signature.
fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims),
        random(B64URL, 43)
    )
}

fn uuid() -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        random(HEX, 8),
        random(HEX, 4),
        random(HEX, 3),
        random(HEX, 3),
        random(HEX, 12)
    )
}

/// Scans `files` (path, content) in a fresh directory; the findings and the exit code.
fn scan(files: &[(&str, String)]) -> (i32, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    let out = keyhound()
        .args(["scan", "-f", "json", "--no-redact", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let findings = json_findings(&out.stdout);
    (
        out.status.code().unwrap(),
        findings.as_array().unwrap().clone(),
    )
}

/// The finding whose secret is `secret`.
fn of<'a>(findings: &'a [Value], secret: &str) -> &'a Value {
    findings
        .iter()
        .find(|f| f["secret"] == secret)
        .unwrap_or_else(|| panic!("no finding for {secret}: {findings:?}"))
}

fn context(f: &Value) -> String {
    f["context"].to_string()
}

#[test]
fn supabase_service_role_key_in_a_migration_is_high() {
    let key = jwt(
        r#"{"iss":"supabase","ref":"qwzxkvjtnbrmplsdfghy","role":"service_role","iat":1712428619,"exp":2028004619}"#,
    );
    let sql = format!(
        "DECLARE\n  project_url TEXT := 'qwzxkvjtnbrmplsdfghy.supabase.co';\n  service_role_key TEXT := '{key}'; -- full access\nBEGIN\n"
    );
    let (code, found) = scan(&[("supabase/migrations/20240108234540_setup.sql", sql)]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 1, "one token, one finding: {found:?}");
    let f = of(&found, &key);
    assert_eq!(f["rule_id"], "jwt");
    assert_eq!(f["confidence"], "high", "{f}");
    assert!(context(f).contains("service_role"), "{f}");
    assert!(
        key.len() > 200,
        "service keys are longer than the generic rule's 200"
    );
}

#[test]
fn service_role_key_under_tests_stays_high_but_demo_keys_are_fixtures() {
    let real = jwt(r#"{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"service_role"}"#);
    let demo = jwt(r#"{"iss":"supabase-demo","role":"service_role","exp":1983812996}"#);
    let anon = jwt(r#"{"iss":"supabase","ref":"abcdefghijklmnopqrst","role":"anon"}"#);
    let (code, found) = scan(&[
        (
            "tests/e2e/setup.ts",
            format!("const admin = createClient(url, '{real}')\n"),
        ),
        (".env.local", format!("SUPABASE_SERVICE_ROLE_KEY={demo}\n")),
        (".env", format!("NEXT_PUBLIC_SUPABASE_ANON_KEY={anon}\n")),
    ]);
    assert_eq!(code, 1);
    assert_eq!(of(&found, &real)["confidence"], "high");
    assert!(of(&found, &real)["fixture"].is_null());
    let d = of(&found, &demo);
    assert_eq!(d["fixture"], "value", "{d}");
    assert!(context(d).contains("supabase-demo"), "{d}");
    let a = of(&found, &anon);
    assert_eq!(a["confidence"], "medium", "{a}");
    assert!(context(a).contains("anon"), "{a}");
}

#[test]
fn demo_key_alone_does_not_fail_the_scan_and_jwt_io_sample_is_a_fixture() {
    let demo = jwt(r#"{"iss":"supabase-demo","role":"anon","exp":1983812996}"#);
    let sample = jwt(r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#);
    let (code, found) = scan(&[(
        "config.env",
        format!("SUPABASE_ANON_KEY={demo}\nAUTH_SAMPLE={sample}\n"),
    )]);
    assert_eq!(found.len(), 2, "{found:?}");
    for f in &found {
        assert_eq!(f["fixture"], "value", "{f}");
    }
    assert_eq!(code, 0, "fixtures by value do not fail the scan");
}

#[test]
fn session_tokens_in_account_lists_are_reported_with_their_expiry() {
    let mut list = String::new();
    let mut tokens = Vec::new();
    for i in 0..3 {
        let t = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256","kid":"ins_acme","typ":"JWT"}"#),
            b64(&format!(
                r#"{{"azp":"https://accounts.acme.io","exp":{},"iss":"https://clerk.acme.io","sid":"sess_{}"}}"#,
                1682635621 + i,
                random(ALNUM, 24)
            )),
            random(B64URL, 342)
        );
        list += &format!(
            "{}@bugmail.com:{t}\n",
            random("abcdefghijklmnopqrstuvwxyz", 12)
        );
        tokens.push(t);
    }
    // Kept under testing/: a token a live service issued is real wherever it is kept.
    let (code, found) = scan(&[("testing/accounts.txt", list)]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 3, "{found:?}");
    for t in &tokens {
        let f = of(&found, t);
        assert_eq!(f["rule_id"], "jwt");
        assert_eq!(f["confidence"], "medium", "{f}");
        assert!(f["fixture"].is_null(), "{f}");
        assert!(context(f).contains("expired on 2023-04-27"), "{f}");
    }
}

#[test]
fn account_list_passwords_are_reported() {
    let pw = format!("{}{}!", random(ALNUM, 9), random("0123456789", 3));
    let (_, found) = scan(&[(
        "accounts.txt",
        format!("maria.rossi@mailbox.com:{pw}\nsupport@acme.com: write to us\n"),
    )]);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = of(&found, &pw);
    assert_eq!(f["rule_id"], "account-list-credential");
    assert_eq!(f["confidence"], "medium");
}

#[test]
fn uuid_and_hex_keys_under_credential_names_are_medium() {
    let (pinecone, agentops, header, trello, sentry) =
        (uuid(), uuid(), uuid(), random(HEX, 32), random(HEX, 64));
    let py = format!(
        "PINECONE_API_KEY = \"{pinecone}\"\nao = agentops.AgentOps(api_key='{agentops}')\nheaders = {{'X-API-KEY': '{header}'}}\nTRELLO_API_KEY = \"{trello}\"\nSENTRY_AUTH_TOKEN=\"{sentry}\"\n"
    );
    let (code, found) = scan(&[("babyagi.py", py)]);
    assert_eq!(code, 1);
    assert_eq!(found.len(), 5, "{found:?}");
    for s in [&agentops, &header, &trello, &sentry] {
        let f = of(&found, s);
        assert_eq!(f["confidence"], "medium", "{f}");
        assert!(context(f).contains("credential name"), "{f}");
    }
    assert!(context(of(&found, &trello)).contains("TRELLO_API_KEY"));
    // A UUID bound to a Pinecone name is Pinecone's legacy key format: its own rule, high.
    let f = of(&found, &pinecone);
    assert_eq!(f["rule_id"], "pinecone-legacy-api-key", "{f}");
    assert_eq!(f["confidence"], "high", "{f}");
}

#[test]
fn uuid_and_hex_after_id_and_digest_names_are_not_reported() {
    let py = format!(
        "token_id = \"{}\"\napi_key_sha256 = \"{}\"\nsecret_hash = \"{}\"\nlogo = \"https://x.io/a.png?alt=media&token={}\"\naccount_id: {}\n",
        uuid(),
        random(HEX, 64),
        random(HEX, 40),
        uuid(),
        random(HEX, 32),
    );
    let (code, found) = scan(&[("settings.py", py)]);
    assert_eq!(code, 0, "{found:?}");
}

#[test]
fn session_cookies_are_medium_and_csrf_and_captcha_tokens_are_not_credentials() {
    let session = random(ALNUM, 64);
    let django = random("abcdefghijklmnopqrstuvwxyz0123456789", 32);
    let csrf = format!("{}%7C{}", random(HEX, 64), random(HEX, 64));
    let py = format!(
        "headers = {{'cookie': 'theme=dark; __Host-next-auth.csrf-token={csrf}; __Secure-next-auth.session-token={session}; _ga=GA1.1.1'}}\ncookies = {{\"sessionid\": \"{django}\"}}\ndata = {{\"csrfmiddlewaretoken\": \"{}\", \"captcha_token\": \"{}\"}}\n",
        random(ALNUM, 32),
        random(ALNUM, 40)
    );
    let (_, found) = scan(&[("client.py", py)]);
    assert_eq!(found.len(), 2, "{found:?}");
    for s in [&session, &django] {
        let f = of(&found, s);
        assert_eq!(f["rule_id"], "session-cookie");
        assert_eq!(f["confidence"], "medium", "{f}");
    }
}

#[test]
fn credentials_in_odd_slots_are_medium() {
    let auth = format!("{}==", random(ALNUM, 22));
    let write_key = format!("{}{}", random(ALNUM, 24), random("0123456789", 4));
    let auth_code = format!("{}{}", random(ALNUM, 24), random("0123456789", 3));
    let bearer = random(ALNUM, 40);
    let template = format!("{}{}", random(ALNUM, 20), random("0123456789", 4));
    let db = format!("{}{}", random(ALNUM, 14), random("0123456789", 2));
    let docker = format!(
        "{}{}{}333***",
        random("ABCDEFGH", 1),
        random("ijklmnop", 1),
        random("qrstuvwx", 1)
    );
    let files = [
        (
            "client.py",
            format!(
                "r = requests.post(\"http://chat.acme.app/v1/completions?auth={auth}\", json=p)\nanalytics = Analytics(write_key=\"{write_key}\")\ncls._auth_code = \"{auth_code}\"\nheaders = {{\"Authorization\": f\"Bearer {bearer}\"}}\n"
            ),
        ),
        (
            "web.js",
            format!("fetch(u, {{ headers: {{ Authorization: `Bearer {template}` }} }})\n"),
        ),
        (
            ".env",
            // Assembled so that this file holds no URL with a password in it.
            ["DATABASE_URL=\"postgres://postgres", ":", &db, "@db.acme.supabase.co:6543/postgres\"\n"].concat(),
        ),
        (
            ".github/workflows/build.yml",
            format!("      - uses: docker/login-action@v2\n        with:\n          username: builder\n          password: {docker}\n"),
        ),
    ];
    let (code, found) = scan(&files);
    assert_eq!(code, 1);
    for s in [
        &auth, &write_key, &auth_code, &bearer, &template, &db, &docker,
    ] {
        let f = of(&found, s);
        assert_eq!(f["confidence"], "medium", "{s}: {f}");
        assert!(f["fixture"].is_null(), "{f}");
    }
    assert_eq!(found.len(), 7, "{found:?}");
}

#[test]
fn references_constants_and_link_targets_are_not_reported() {
    let ts = "      Auth0Provider({\n        clientId: AUTH0_CLIENT_ID!,\n        clientSecret: AUTH0_CLIENT_SECRET!,\n      }),\n";
    let py = "    token_type = _X509_SUBJECT_TOKEN_TYPE\n    api_key = AppConfig.g4f_api_key\n    secret = os.environ[\"APP_SECRET\"]\n    token = process.env.API_TOKEN\n";
    let md = "See [registry.token].\n\n[registry.token]: config.md#registrytoken\n[credential-process]: registry-authentication.md#cargotoken\n";
    let vue = "<NButton :disabled=\"password !== confirmPassword\" :loading=\"loading\">\n";
    let (code, found) = scan(&[
        ("providers.ts", ts.to_string()),
        ("sts.py", py.to_string()),
        ("environment-variables.md", md.to_string()),
        ("Permission.vue", vue.to_string()),
    ]);
    assert_eq!(code, 0, "{found:?}");
}

#[test]
fn a_provider_word_in_another_statement_is_not_context() {
    let account = random(HEX, 32);
    let key = random(HEX, 32);
    let ts = format!(
        "if (profile.use_azure_openai) {{\n  client = azure(profile)\n}}\nconst openai = new OpenAI({{\n  baseURL: \"https://gateway.ai.cloudflare.com/v1/{account}/open-ai/openai\"\n}})\n"
    );
    let env = format!(
        "AZURE_OPENAI_ENDPOINT=https://contoso.openai.azure.com/\nCF_ACCOUNT_ID={}\n",
        random(HEX, 32)
    );
    let py = format!(
        "client = AzureOpenAI(\n    azure_endpoint=\"https://contoso.openai.azure.com/\",\n    api_key=\"{key}\",\n)\n"
    );
    let (_, found) = scan(&[("route.ts", ts), ("azure.env", env), ("chat.py", py)]);
    assert_eq!(
        found.len(),
        1,
        "only the key bound to AzureOpenAI(: {found:?}"
    );
    let f = of(&found, &key);
    assert_eq!(f["rule_id"], "azure-openai-api-key");
    assert_eq!(f["confidence"], "high");
}

#[test]
fn vendored_library_defaults_are_fixtures_by_place_but_provider_keys_stay_high() {
    let default = b64(r#"{"session_id": "default"}"#);
    let js = format!(
        "n.DEFAULT_SERVER_WEBSOCKET_URL=\"ws://localhost:5006/ws\",n.DEFAULT_TOKEN=\"{default}\";let h=0;\n"
    );
    let key = openai_project_key();
    let (_, found) = scan(&[
        (
            "venv/lib/python3.9/site-packages/bokeh/static/bokeh-2.4.3.min.js",
            js.clone(),
        ),
        ("web/static/vendor/bokeh.js", js),
        (
            "node_modules/acme/index.js",
            format!("const k = \"{key}\";\n"),
        ),
    ]);
    let defaults: Vec<&Value> = found.iter().filter(|f| f["secret"] == default).collect();
    assert_eq!(defaults.len(), 2, "{found:?}");
    for f in defaults {
        assert_eq!(f["fixture"], "place", "{f}");
    }
    let k = of(&found, &key);
    assert_eq!(k["confidence"], "high");
    assert!(k["fixture"].is_null());
}
