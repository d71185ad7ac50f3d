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

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

use crate::rules::syntax::VerifySpec;

/// The placeholder that stands for the secret in a verify block's URL and header values.
pub const PLACEHOLDER: &str = "{secret}";

/// Statuses that mean "the key works" unless a rule says otherwise. 429 (rate limit, quota)
/// is only ever sent to a caller that authenticated.
pub const DEFAULT_ACTIVE: &[u16] = &[200, 429];
/// Statuses that mean "revoked or invalid" unless a rule says otherwise.
pub const DEFAULT_INACTIVE: &[u16] = &[401, 403];

/// Consecutive failures to answer after which a host is not asked again in one run.
const HOST_FAILURE_LIMIT: usize = 3;

/// What a provider said about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
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
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Unknown => "unknown",
        }
    }
}

/// The outcome of checking one secret. In JSON it sits flat in the finding:
/// `"verified": "active", "verified_status": 200`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// What the answer means.
    #[serde(rename = "verified")]
    pub status: Status,
    /// The HTTP status seen, if the provider answered.
    #[serde(rename = "verified_status", skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why the status is unknown, when it is (never contains the secret).
    #[serde(rename = "verified_detail", skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Verification {
    fn unknown(detail: impl Into<String>) -> Verification {
        Verification {
            status: Status::Unknown,
            http_status: None,
            detail: Some(detail.into()),
        }
    }
}

/// A verify block that is wrong, with the field it is wrong in (`verify.url`…). The rule
/// loader adds the file and rule id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn spec_error(field: &'static str, message: impl Into<String>) -> SpecError {
    SpecError {
        field,
        message: message.into(),
    }
}

/// HTTP methods a verify block may use. Checks only read; none sends a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`, with an empty body.
    Post,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
        }
    }
}

/// A validated verify block: where to send a secret and how to read the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    method: Method,
    /// `host` or `host:port`, lowercase.
    authority: String,
    /// Path and query, starting with `/`; may hold the placeholder.
    path_and_query: String,
    headers: Vec<(String, String)>,
    active: Vec<u16>,
    inactive: Vec<u16>,
}

/// A rendered request: what would go on the wire for one secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The full URL, secret included where the block puts it.
    pub url: String,
    /// Header names and values, secret included where the block puts it.
    pub headers: Vec<(String, String)>,
}

/// Characters left as they are when a secret goes into a URL; everything else is
/// percent-encoded, so a secret cannot change the URL's structure.
const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Check {
    /// Validates a verify block: method, an `https://` URL with a plain host, header names and
    /// values, the placeholder (in the URL's path or query or in header values, at least once,
    /// never in the host), and disjoint status lists.
    pub fn from_spec(spec: &VerifySpec) -> Result<Check, SpecError> {
        let method = match spec
            .method
            .as_deref()
            .unwrap_or("GET")
            .to_ascii_uppercase()
            .as_str()
        {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            other => {
                return Err(spec_error(
                    "verify.method",
                    format!("`{other}` is not one of GET, HEAD, POST"),
                ))
            }
        };
        let (authority, path_and_query) = split_https_url(&spec.url)?;
        check_placeholders(&path_and_query, "verify.url")?;
        if path_and_query.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(spec_error(
                "verify.url",
                "has a space, a control or a non-ASCII character (percent-encode it)",
            ));
        }
        let mut headers = Vec::with_capacity(spec.headers.len());
        for (name, value) in &spec.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(spec_error(
                    "verify.headers",
                    format!("`{name}` is not a valid header name"),
                ));
            }
            check_placeholders(value, "verify.headers")?;
            if value.chars().any(|c| !(c == ' ' || c.is_ascii_graphic())) {
                return Err(spec_error(
                    "verify.headers",
                    format!("the value of `{name}` has a control or non-ASCII character"),
                ));
            }
            headers.push((name.clone(), value.clone()));
        }
        let uses = path_and_query.matches(PLACEHOLDER).count()
            + headers
                .iter()
                .map(|(_, v)| v.matches(PLACEHOLDER).count())
                .sum::<usize>();
        if uses == 0 {
            return Err(spec_error(
                "verify",
                format!(
                    "the secret goes nowhere: put `{PLACEHOLDER}` in a header value or in the URL's query"
                ),
            ));
        }
        let active = statuses(spec.active.as_deref(), DEFAULT_ACTIVE, "verify.active")?;
        let inactive = statuses(
            spec.inactive.as_deref(),
            DEFAULT_INACTIVE,
            "verify.inactive",
        )?;
        if active.is_empty() {
            return Err(spec_error(
                "verify.active",
                "needs at least one status that means the key works",
            ));
        }
        if let Some(both) = active.iter().find(|s| inactive.contains(s)) {
            return Err(spec_error(
                "verify.inactive",
                format!("status {both} is listed as both active and inactive"),
            ));
        }
        Ok(Check {
            method,
            authority,
            path_and_query,
            headers,
            active,
            inactive,
        })
    }

    /// The host the secret is sent to (without the port).
    pub fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((host, _)) => host,
            None => &self.authority,
        }
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL as written in the rule, placeholder included.
    pub fn url_template(&self) -> String {
        format!("https://{}{}", self.authority, self.path_and_query)
    }

    /// The request for `secret`. `base` (`http://127.0.0.1:8123`), the testing hook, replaces
    /// the scheme, host and port; it must already be validated (see [`Verifier::new`]).
    pub fn request(&self, secret: &str, base: Option<&str>) -> Request {
        let encoded = utf8_percent_encode(secret, URL_KEEP).to_string();
        let path = self.path_and_query.replace(PLACEHOLDER, &encoded);
        let url = match base {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => format!("https://{}{path}", self.authority),
        };
        Request {
            method: self.method,
            url,
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.replace(PLACEHOLDER, secret)))
                .collect(),
        }
    }

    /// What an HTTP status means under this check.
    pub fn classify(&self, status: u16) -> Status {
        if self.active.contains(&status) {
            Status::Active
        } else if self.inactive.contains(&status) {
            Status::Inactive
        } else {
            Status::Unknown
        }
    }
}

/// Splits `https://host[:port]/path?query` into a lowercase authority and the path and query.
fn split_https_url(url: &str) -> Result<(String, String), SpecError> {
    const FIELD: &str = "verify.url";
    let rest = url.strip_prefix("https://").ok_or_else(|| {
        spec_error(
            FIELD,
            format!("`{url}` is not an https:// URL (a secret is never sent in the clear)"),
        )
    })?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if tail.contains('#') {
        return Err(spec_error(FIELD, "must not have a #fragment"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && !host.starts_with(['.', '-']);
    if !host_ok {
        return Err(spec_error(
            FIELD,
            format!(
                "`{authority}` is not a plain host name (no user info, no placeholder: the host is fixed)"
            ),
        ));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(spec_error(FIELD, format!("`{p}` is not a port")));
        }
    }
    if let Some(why) = non_public_host(host) {
        return Err(spec_error(
            FIELD,
            format!("`{host}` {why}: a secret goes only to a provider's public host"),
        ));
    }
    let path_and_query = match tail.chars().next() {
        None => "/".to_string(),
        Some('?') => format!("/{tail}"),
        Some(_) => tail.to_string(),
    };
    Ok((authority.to_ascii_lowercase(), path_and_query))
}

/// Why `host` (a syntactically plain host name) cannot be a provider's public host: an IP
/// literal in any spelling a resolver accepts (`127.0.0.1`, `127.1`, `2130706433`,
/// `0x7f.0.0.1`: no top-level domain starts with a digit), a single label (resolved through
/// search domains to an internal host), or a name reserved for local networks.
fn non_public_host(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Some((_, tld)) = host.rsplit_once('.') else {
        return Some("is a single-label name (an internal host)");
    };
    if tld.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("is an IP address");
    }
    const LOCAL: &[&str] = &[
        "localhost",
        "local",
        "internal",
        "localdomain",
        "lan",
        "home.arpa",
        "intranet",
        "corp",
        "private",
    ];
    LOCAL
        .iter()
        .any(|l| host == *l || host.ends_with(&format!(".{l}")))
        .then_some("is a local or internal name")
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local, shared
/// (carrier-grade NAT), multicast, documentation, benchmarking or reserved space.
pub fn is_public_ip(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b))
        }
    }
}

/// Resolves as ureq does, then keeps only public addresses: a provider host whose name
/// resolves to 127.0.0.1 or a private network (a planted DNS answer, a hosts file entry) is
/// not asked.
#[derive(Debug, Default)]
struct PublicOnly(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for PublicOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let all = self.0.resolve(uri, config, timeout)?;
        let mut public = self.empty();
        public.truncate(0);
        for addr in all.iter().filter(|a| is_public_ip(a.ip())) {
            public.push(*addr);
        }
        if public.is_empty() {
            return Err(ureq::Error::Other(Box::new(NotPublic)));
        }
        Ok(public)
    }
}

#[derive(Debug)]
struct NotPublic;

impl std::fmt::Display for NotPublic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the host resolves only to loopback, private or reserved addresses")
    }
}

impl std::error::Error for NotPublic {}

/// Braces may only appear as the placeholder, so that a typo such as `{key}` fails at load.
fn check_placeholders(text: &str, field: &'static str) -> Result<(), SpecError> {
    let rest = text.replace(PLACEHOLDER, "");
    if rest.contains(['{', '}']) {
        return Err(spec_error(
            field,
            format!("`{text}`: the only placeholder is `{PLACEHOLDER}`"),
        ));
    }
    Ok(())
}

fn statuses(
    list: Option<&[u16]>,
    default: &[u16],
    field: &'static str,
) -> Result<Vec<u16>, SpecError> {
    let list = list.unwrap_or(default);
    if let Some(bad) = list.iter().find(|s| !(100..=599).contains(*s)) {
        return Err(spec_error(
            field,
            format!("{bad} is not an HTTP status (100 to 599)"),
        ));
    }
    Ok(list.to_vec())
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Limit for one request: connecting and the whole exchange each.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub threads: usize,
    /// Testing hook: `http://127.0.0.1:8123` replaces the scheme, host and port of every
    /// check's URL (plain HTTP allowed only here). The CLI reads it from
    /// `KEYHOUND_TEST_PROVIDER_URL`.
    pub provider_override: Option<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            timeout: Duration::from_secs(5),
            threads: 8,
            provider_override: None,
        }
    }
}

/// Setting up the verifier failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The provider override is not `http(s)://host[:port]`.
    #[error("provider override `{0}` is not http://HOST[:PORT] or https://HOST[:PORT]")]
    BadOverride(String),
}

/// Sends checks. Build one per run; [`Verifier::check_all`] dedups and bounds the work.
#[derive(Debug)]
pub struct Verifier {
    agent: ureq::Agent,
    base: Option<String>,
    threads: usize,
}

impl Verifier {
    /// A client that follows no redirect, sends only HTTPS (unless overridden for tests) and
    /// gives up after `options.timeout`.
    pub fn new(options: VerifyOptions) -> Result<Verifier, VerifyError> {
        let base = match options.provider_override {
            Some(o) => Some(validate_override(&o)?),
            None => None,
        };
        let mut config = ureq::Agent::config_builder()
            .https_only(base.is_none())
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(options.timeout))
            .timeout_global(Some(options.timeout))
            .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")));
        if base.is_some() {
            // The test server is local; a proxy from the environment must not stand between.
            config = config.proxy(None);
        }
        let agent = if base.is_some() {
            config.build().into()
        } else {
            ureq::Agent::with_parts(
                config.build(),
                ureq::unversioned::transport::DefaultConnector::new(),
                PublicOnly::default(),
            )
        };
        Ok(Verifier {
            agent,
            base,
            threads: options.threads.max(1),
        })
    }

    /// Sends one check for `secret` and reads the answer's status (not its body).
    pub fn check(&self, check: &Check, secret: &str) -> Verification {
        let request = check.request(secret, self.base.as_deref());
        self.send(check, &request, secret)
    }

    fn send(&self, check: &Check, request: &Request, secret: &str) -> Verification {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let http_request = match builder.body(()) {
            Ok(r) => r,
            Err(_) => return Verification::unknown("the secret cannot be sent in a header or URL"),
        };
        match self.agent.run(http_request) {
            Ok(response) => {
                let code = response.status().as_u16();
                let status = check.classify(code);
                Verification {
                    status,
                    http_status: Some(code),
                    detail: match (status, code) {
                        (Status::Unknown, 300..=399) => Some("redirect not followed".into()),
                        (Status::Unknown, _) => Some(format!("HTTP {code} means neither")),
                        _ => None,
                    },
                }
            }
            Err(e) => Verification::unknown(describe(&e, secret)),
        }
    }

    /// Checks every `(check, secret)` pair and returns the answers in the same order. Pairs
    /// that render the same request are sent once; at most `threads` are in flight; a host
    /// that has failed to answer [`HOST_FAILURE_LIMIT`] times in a row is not asked again.
    pub fn check_all(&self, jobs: &[(&Check, &str)]) -> Vec<Verification> {
        let mut unique: Vec<(&Check, Request, &str)> = Vec::new();
        let mut index: HashMap<Request, usize> = HashMap::new();
        let slots: Vec<usize> = jobs
            .iter()
            .map(|(check, secret)| {
                let request = check.request(secret, self.base.as_deref());
                *index.entry(request.clone()).or_insert_with(|| {
                    unique.push((check, request, secret));
                    unique.len() - 1
                })
            })
            .collect();
        let failures: HashMap<String, AtomicUsize> = unique
            .iter()
            .map(|(_, r, _)| (host_of(&r.url).to_string(), AtomicUsize::new(0)))
            .collect();
        let next = AtomicUsize::new(0);
        let workers = self.threads.min(unique.len());
        let mut answers: Vec<Option<Verification>> = vec![None; unique.len()];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((check, request, secret)) = unique.get(i) else {
                                break;
                            };
                            let failed = &failures[host_of(&request.url)];
                            let answer = if failed.load(Ordering::Relaxed) >= HOST_FAILURE_LIMIT {
                                Verification::unknown(format!(
                                    "not asked: the host failed to answer {HOST_FAILURE_LIMIT} times"
                                ))
                            } else {
                                let answer = self.send(check, request, secret);
                                if answer.http_status.is_some() {
                                    failed.store(0, Ordering::Relaxed);
                                } else {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                }
                                answer
                            };
                            done.push((i, answer));
                        }
                        done
                    })
                })
                .collect();
            for handle in handles {
                // A worker only panics on a bug; its jobs then stay unanswered (unknown).
                if let Ok(done) = handle.join() {
                    for (i, answer) in done {
                        answers[i] = Some(answer);
                    }
                }
            }
        });
        slots
            .into_iter()
            .map(|i| {
                answers[i]
                    .clone()
                    .unwrap_or_else(|| Verification::unknown("not checked"))
            })
            .collect()
    }
}

/// `http://host:port` with nothing after it (a trailing `/` is dropped): the testing hook's
/// value, checked.
pub fn validate_override(base: &str) -> Result<String, VerifyError> {
    let bad = || VerifyError::BadOverride(base.to_string());
    let trimmed = base.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"))
        .ok_or_else(bad)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(bad());
    }
    Ok(trimmed.to_string())
}

/// The authority of a rendered URL (the key for counting a host's failures).
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest)
}

/// Why a request got no answer, in words that never include the secret (some of ureq's
/// messages quote the URL, which may hold it).
fn describe(e: &ureq::Error, secret: &str) -> String {
    let text = match e {
        ureq::Error::Timeout(_) => "timed out".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(io) => format!("network error: {io}"),
        ureq::Error::Tls(m) => format!("TLS error: {m}"),
        ureq::Error::Other(inner) => inner.to_string(),
        other => format!("request failed: {other}"),
    };
    let encoded = utf8_percent_encode(secret, URL_KEEP).to_string();
    text.replace(secret, "…").replace(&encoded, "…")
}

#[cfg(test)]
mod tests {
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
