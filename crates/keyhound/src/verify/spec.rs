//! The verify block's compiled form: a [`Check`] built from a rule's `[rules.verify]` spec
//! (HTTPS only, a public host, the placeholder only where allowed), and the [`Request`] it
//! renders for one secret. Nothing here touches the network.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::Status;

/// The placeholder that stands for the secret in a verify block's URL and header values.
pub(crate) const PLACEHOLDER: &str = "{secret}";

/// Statuses that mean "the key works" unless a rule says otherwise. 429 (rate limit, quota)
/// is only ever sent to a caller that authenticated.
pub(crate) const DEFAULT_ACTIVE: &[u16] = &[200, 429];
/// Statuses that mean "revoked or invalid" unless a rule says otherwise.
pub(crate) const DEFAULT_INACTIVE: &[u16] = &[401, 403];

/// A verify block that is wrong, with the field it is wrong in (`verify.url`…). The rule
/// loader adds the file and rule id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecError {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
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
        crate::names::name(&self)
    }
}

/// `[rules.verify]`: one request that tells whether a secret works. `{secret}` stands for the
/// secret in header values and in the URL's path or query; the host is fixed. Part of the rule
/// file format (`rules::syntax`); checked by `Check::from_spec`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySpec {
    /// `GET` (default), `HEAD` or `POST` (empty body).
    #[serde(default)]
    pub method: Option<String>,
    /// An `https://` URL.
    pub url: String,
    /// Request headers, for example `{ Authorization = "Bearer {secret}" }`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Statuses meaning the key works (default 200 and 429).
    #[serde(default)]
    pub active: Option<Vec<u16>>,
    /// Statuses meaning the key is revoked or invalid (default 401 and 403).
    #[serde(default)]
    pub inactive: Option<Vec<u16>>,
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
pub(crate) const URL_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Check {
    /// Validates a verify block: method, an `https://` URL with a plain host, header names and
    /// values, the placeholder (in the URL's path or query or in header values, at least once,
    /// never in the host), and disjoint status lists.
    pub(crate) fn from_spec(spec: &VerifySpec) -> Result<Check, SpecError> {
        let named = spec.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        let Some(method) = crate::names::parse(&named) else {
            return Err(spec_error(
                "verify.method",
                format!("`{named}` is not one of GET, HEAD, POST"),
            ));
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
    /// the scheme, host and port; it must already be validated (see [`Verifier::new`](super::Verifier::new)).
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
pub(crate) fn is_public_ip(ip: std::net::IpAddr) -> bool {
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
