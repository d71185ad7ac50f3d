//! Live verification: ask a key's provider whether the key still works.
//!
//! The contract, in order of importance:
//!
//! - Nothing here runs unless a caller builds a [`Verifier`] and asks; scanning never touches
//!   the network.
//! - A secret goes only to the host its rule's `[rules.verify]` block names, over HTTPS.
//!   Redirects are never followed (a 3xx answer is recorded as `unknown`), so a provider cannot
//!   bounce the key elsewhere. The one exception is [`VerifyOptions::provider_override`], a
//!   testing hook that points every check at one local server (plain HTTP allowed).
//! - Each unique request (rule check and secret) is sent once per [`Verifier::check_all`] call,
//!   from at most [`VerifyOptions::threads`] threads, each bounded by
//!   [`VerifyOptions::timeout`]. A host that fails to answer three times is not asked again in
//!   that call, so a provider that is down costs a few timeouts, not one per key.
//! - The answer is a [`Status`]: a status code in the rule's `active` list (default 200 and 429:
//!   a rate-limited key did authenticate) means [`Status::Active`]; one in `inactive` (default
//!   401 and 403) means [`Status::Inactive`]; anything else, a redirect, a timeout or a network
//!   error means [`Status::Unknown`].
//!
//! This module holds the compiled form of a verify block ([`Check`]), the request it renders,
//! and the client. Parsing the TOML is `rules::syntax`'s job; deciding what a run does with the
//! answers (filtering, exit codes) is the caller's.
//!
//! ```
//! use keyhound::rules::{syntax::RuleFile, RuleSet};
//!
//! let file = RuleFile::parse("my.toml", r#"
//! [[rules]]
//! id = "acme-token"
//! description = "Acme API token"
//! regex = 'acme_[a-z0-9]{32}'
//! keywords = ["acme_"]
//! [rules.verify]
//! url = "https://api.acme.example/v1/me"
//! headers = { Authorization = "Bearer {secret}" }
//! "#)?;
//! let mut rules = RuleSet::default();
//! rules.add_file(file, true)?;
//! let check = rules.get("acme-token").and_then(|r| r.verify.as_ref()).expect("has a verify block");
//! assert_eq!(check.host(), "api.acme.example");
//! let request = check.request("acme_0123", None);
//! assert_eq!(request.url, "https://api.acme.example/v1/me");
//! assert_eq!(request.headers, vec![("Authorization".to_string(), "Bearer acme_0123".to_string())]);
//! # Ok::<(), keyhound::Error>(())
//! ```
//!
//! The parts: `spec` (the compiled verify block and its request) and `client` (the HTTP
//! client); this file holds the answer types.

mod client;
mod spec;

use serde::Serialize;

pub(crate) use client::validate_override;
pub use client::{Verifier, VerifyError, VerifyOptions};
pub use spec::{Check, Method, Request, VerifySpec};

/// What a provider said about a key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// The provider accepted the key: it works now.
    Active,
    /// The provider refused the key: revoked, expired or never valid.
    Inactive,
    /// No answer that means either: a network error, a timeout, a redirect, another status.
    Unknown,
}

impl Status {
    /// The lowercase name (`active`, `inactive`, `unknown`).
    pub fn as_str(self) -> &'static str {
        crate::names::name(&self)
    }
}

/// The outcome of checking one secret. In JSON it sits flat in the finding:
/// `"verified": "active", "verified_status": 200`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Verification {
    /// What the answer means.
    #[serde(rename = "verified")]
    pub status: Status,
    /// The HTTP status seen, if the provider answered.
    #[serde(
        rename = "verified_status",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http_status: Option<u16>,
    /// Why the status is unknown, when it is (never contains the secret).
    #[serde(
        rename = "verified_detail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub detail: Option<String>,
}

impl Verification {
    pub(crate) fn unknown(detail: impl Into<String>) -> Verification {
        Verification {
            status: Status::Unknown,
            http_status: None,
            detail: Some(detail.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::client::*;
    use super::spec::*;
    use super::*;
    use std::collections::BTreeMap;

    fn spec(url: &str, headers: &[(&str, &str)]) -> VerifySpec {
        VerifySpec {
            method: None,
            url: url.to_string(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            active: None,
            inactive: None,
        }
    }

    #[test]
    fn renders_header_and_query() {
        let c = Check::from_spec(&spec(
            "https://API.example.com/v1/models?key={secret}",
            &[("x-api-key", "{secret}")],
        ))
        .expect("accepted");
        assert_eq!(c.host(), "api.example.com");
        let r = c.request("a+b/c", None);
        assert_eq!(r.url, "https://api.example.com/v1/models?key=a%2Bb%2Fc");
        assert_eq!(r.headers, vec![("x-api-key".into(), "a+b/c".into())]);
        let r = c.request("k", Some("http://127.0.0.1:9/"));
        assert_eq!(r.url, "http://127.0.0.1:9/v1/models?key=k");
    }

    #[test]
    fn query_only_url_gets_a_slash() {
        let c = Check::from_spec(&spec("https://h.example?k={secret}", &[])).expect("accepted");
        assert_eq!(c.request("s", None).url, "https://h.example/?k=s");
    }

    #[test]
    fn rejects_what_could_leak_or_misfire() {
        let field = |url: &str, headers: &[(&str, &str)]| {
            Check::from_spec(&spec(url, headers))
                .expect_err("rejected")
                .field
        };
        let auth = [("Authorization", "Bearer {secret}")];
        assert_eq!(field("http://h.example/x", &auth), "verify.url");
        assert_eq!(field("https://{secret}.h.example/", &auth), "verify.url");
        assert_eq!(field("https://u@h.example/", &auth), "verify.url");
        assert_eq!(field("https://h.example:99999/", &auth), "verify.url");
        assert_eq!(field("https://h.example/#x", &auth), "verify.url");
        assert_eq!(field("https://h.example/x", &[]), "verify");
        assert_eq!(
            field("https://h.example/x", &[("Authorization", "Bearer {key}")]),
            "verify.headers"
        );
        assert_eq!(
            field("https://h.example/x", &[("Bad Name", "{secret}")]),
            "verify.headers"
        );
        let mut s = spec("https://h.example/", &auth);
        s.method = Some("DELETE".into());
        assert_eq!(
            Check::from_spec(&s).expect_err("rejected").field,
            "verify.method"
        );
        let mut s = spec("https://h.example/", &auth);
        s.inactive = Some(vec![200]);
        assert_eq!(
            Check::from_spec(&s).expect_err("rejected").field,
            "verify.inactive"
        );
        let mut s = spec("https://h.example/", &auth);
        s.active = Some(vec![2000]);
        assert_eq!(
            Check::from_spec(&s).expect_err("rejected").field,
            "verify.active"
        );
    }

    #[test]
    fn refuses_ip_literals_and_local_names() {
        let auth = [("Authorization", "Bearer {secret}")];
        for url in [
            "https://127.0.0.1/",
            "https://127.1/v1",
            "https://2130706433/",
            "https://0x7f.0.0.1/",
            "https://10.0.0.8:8443/collect",
            "https://[::1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://metadata/",
            "https://vault.corp/",
            "https://db.internal/",
            "https://printer.local./",
        ] {
            let err = Check::from_spec(&spec(url, &auth)).expect_err(url);
            assert_eq!(err.field, "verify.url", "{url}");
        }
        assert!(Check::from_spec(&spec("https://api.openai.com/v1/models", &auth)).is_ok());
        assert!(Check::from_spec(&spec("https://h.example:8443/", &auth)).is_ok());
    }

    #[test]
    fn public_addresses() {
        let public = |s: &str| is_public_ip(s.parse().unwrap());
        for p in ["8.8.8.8", "104.18.6.192", "2606:4700::6810:5c0"] {
            assert!(public(p), "{p}");
        }
        for p in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!public(p), "{p}");
        }
    }

    #[test]
    fn default_status_meanings() {
        let c =
            Check::from_spec(&spec("https://h.example/", &[("A", "{secret}")])).expect("accepted");
        assert_eq!(c.classify(200), Status::Active);
        assert_eq!(c.classify(429), Status::Active);
        assert_eq!(c.classify(401), Status::Inactive);
        assert_eq!(c.classify(403), Status::Inactive);
        assert_eq!(c.classify(500), Status::Unknown);
        assert_eq!(c.classify(302), Status::Unknown);
    }

    #[test]
    fn override_must_be_a_bare_origin() {
        assert!(validate_override("http://127.0.0.1:8123/").is_ok());
        assert!(validate_override("ftp://127.0.0.1").is_err());
        assert!(validate_override("http://127.0.0.1/x").is_err());
        assert!(validate_override("http://").is_err());
    }

    #[test]
    fn descriptions_never_hold_the_secret() {
        let e = ureq::Error::BadUri("http://h/?key=s3cr%2Bt".into());
        let d = describe(&e, "s3cr+t");
        assert!(!d.contains("s3cr"), "{d}");
    }

    #[test]
    fn builtin_providers_are_checked_on_their_own_hosts() {
        let rules = crate::RuleSet::builtin().expect("built-in rules load");
        let expect = [
            ("openai-legacy-key", "api.openai.com", "/v1/models"),
            ("openai-project-key", "api.openai.com", "/v1/models"),
            ("openai-service-account-key", "api.openai.com", "/v1/models"),
            ("openai-user-key", "api.openai.com", "/v1/models"),
            ("openai-admin-key", "api.openai.com", "/v1/organization/"),
            ("anthropic-api-key", "api.anthropic.com", "/v1/models"),
            (
                "google-api-key",
                "generativelanguage.googleapis.com",
                "/v1beta/models",
            ),
            (
                "huggingface-access-token",
                "huggingface.co",
                "/api/whoami-v2",
            ),
            ("groq-api-key", "api.groq.com", "/openai/v1/models"),
            ("openrouter-api-key", "openrouter.ai", "/api/v1/key"),
            ("github-pat", "api.github.com", "/user"),
            ("github-fine-grained-pat", "api.github.com", "/user"),
            ("github-oauth-token", "api.github.com", "/user"),
            ("github-app-token", "api.github.com", "/user"),
        ];
        for (id, host, path) in expect {
            let check = rules
                .get(id)
                .and_then(|r| r.verify.as_ref())
                .unwrap_or_else(|| panic!("{id} has no verify block"));
            assert_eq!(check.host(), host, "{id}");
            let request = check.request("SECRET", None);
            let prefix = format!("https://{host}{path}");
            assert!(request.url.starts_with(&prefix), "{id}: {}", request.url);
            assert!(
                request.headers.iter().any(|(_, v)| v.contains("SECRET")),
                "{id}: the key goes in a header"
            );
            assert_eq!(check.classify(200), Status::Active, "{id}");
            assert_eq!(check.classify(429), Status::Active, "{id}");
            assert_eq!(check.classify(401), Status::Inactive, "{id}");
        }
    }

    #[test]
    fn json_is_flat() {
        let v = serde_json::to_value(Verification {
            status: Status::Active,
            http_status: Some(200),
            detail: None,
        })
        .expect("accepted");
        assert_eq!(
            v,
            serde_json::json!({"verified": "active", "verified_status": 200})
        );
    }
}
