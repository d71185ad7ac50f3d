//! Revoking leaked GitHub tokens through GitHub's public credential revocation endpoint
//! (`POST https://api.github.com/credentials/revoke`): no authentication (an authenticated
//! request is refused), at most 1,000 tokens a request, 60 requests an hour. GitHub notifies
//! each token's owner and cannot reactivate a revoked token.
//!
//! Only that host is ever contacted (a test may point the request at a local server, as
//! verification does); the caller decides whether to send at all.

use std::time::Duration;

use crate::verify::{validate_override, VerifyError};

/// The endpoint.
pub(crate) const GITHUB_REVOKE_URL: &str = "https://api.github.com/credentials/revoke";
/// Most tokens in one request.
pub const BATCH: usize = 1000;
/// Token kinds the endpoint accepts.
pub const GITHUB_PREFIXES: &[&str] = &["ghp_", "github_pat_", "gho_", "ghu_", "ghr_"];

/// Whether the endpoint takes this token: one of [`GITHUB_PREFIXES`], and for the kinds that
/// carry a checksum, a checksum that holds (a token that fails it is not a real token).
pub fn is_revocable(token: &str) -> bool {
    GITHUB_PREFIXES.iter().any(|p| token.starts_with(p))
        && crate::evidence::github_checksum(token.as_bytes()) != Some(false)
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    /// How many tokens it carried.
    pub tokens: usize,
    /// The HTTP status, if GitHub answered.
    pub status: Option<u16>,
    /// Why there was no answer, or what a status other than 202 means.
    pub problem: Option<String>,
}

impl BatchOutcome {
    /// Whether GitHub accepted the tokens for revocation (202).
    pub fn accepted(&self) -> bool {
        self.status == Some(202)
    }
}

/// Sends `tokens` in batches of [`BATCH`]. `base` (testing only) replaces
/// `https://api.github.com`.
pub fn revoke_github(
    tokens: &[String],
    base: Option<&str>,
    timeout: Duration,
) -> Result<Vec<BatchOutcome>, VerifyError> {
    let url = match base {
        Some(b) => format!("{}/credentials/revoke", validate_override(b)?),
        None => GITHUB_REVOKE_URL.to_string(),
    };
    let mut config = ureq::Agent::config_builder()
        .https_only(base.is_none())
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_connect(Some(timeout))
        .timeout_global(Some(timeout))
        .user_agent(concat!("keyhound/", env!("CARGO_PKG_VERSION")));
    if base.is_some() {
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let mut out = Vec::new();
    for batch in tokens.chunks(BATCH) {
        let body = serde_json::json!({ "credentials": batch }).to_string();
        let answer = agent
            .post(&url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .content_type("application/json")
            .send(body.as_bytes());
        out.push(match answer {
            Ok(response) => {
                let code = response.status().as_u16();
                BatchOutcome {
                    tokens: batch.len(),
                    status: Some(code),
                    problem: match code {
                        202 => None,
                        422 => Some("GitHub refused the request (validation failed, or more than 60 requests this hour)".into()),
                        403 => Some("GitHub refused the request (403)".into()),
                        c => Some(format!("unexpected HTTP {c}")),
                    },
                }
            }
            Err(e) => BatchOutcome {
                tokens: batch.len(),
                status: None,
                problem: Some(match e {
                    ureq::Error::Timeout(_) => "timed out".into(),
                    ureq::Error::HostNotFound => "host not found".into(),
                    ureq::Error::ConnectionFailed => "connection failed".into(),
                    _ => "network error".into(),
                }),
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_github_tokens_with_a_holding_checksum() {
        let body = "a".repeat(30);
        let good = format!(
            "ghp_{body}{}",
            crate::evidence::base62_6(crc32fast::hash(body.as_bytes()))
        );
        assert!(is_revocable(&good));
        let bad = format!("ghp_{body}000000");
        assert!(!is_revocable(&bad));
        assert!(!is_revocable(&format!("ghs_{body}000000")));
        assert!(is_revocable(&format!("github_pat_{}", "b".repeat(82))));
    }
}
