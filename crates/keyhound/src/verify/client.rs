//! The HTTP client that sends checks: a [`Verifier`] that follows no redirect, asks only public
//! addresses, dedups requests and gives up on a host that keeps failing. What a check sends is
//! the spec's job (`spec`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use percent_encoding::utf8_percent_encode;

use super::spec::{is_public_ip, Check, Request, URL_KEEP};
use super::{Status, Verification};

/// Consecutive failures to answer after which a host is not asked again in one run.
const HOST_FAILURE_LIMIT: usize = 3;

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

/// How to verify.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// that has failed to answer three times in a row (`HOST_FAILURE_LIMIT`) is not asked again.
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
pub(crate) fn validate_override(base: &str) -> Result<String, VerifyError> {
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
pub(crate) fn describe(e: &ureq::Error, secret: &str) -> String {
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
