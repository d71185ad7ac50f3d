//! Live verification of a scan's findings: what `--verify`, `--only-verified` and
//! `--fail-on active` switch on in `scan` and `git`, and the client that `keyhound verify` and
//! `keyhound revoke` share.
//!
//! Nothing here opens a connection unless one of those was asked for. The testing hook
//! `KEYHOUND_TEST_PROVIDER_URL` is read here, and announced on stderr whenever it is used.

use std::time::Duration;

use keyhound::finding::redact;
use keyhound::report::printable;
use keyhound::verify::{Check, Status, Verifier, VerifyOptions};
use keyhound::Finding;

/// The environment variable that points every check at a local test server.
pub const PROVIDER_URL_VAR: &str = "KEYHOUND_TEST_PROVIDER_URL";

/// Which findings fail a run. Fixtures (test material, published examples, failed checksums)
/// never do, unless the provider accepted the key; keys the provider accepted always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Every finding that is not a fixture (the default: what human output lists).
    #[default]
    #[value(alias = "any")]
    Low,
    /// Findings of medium or high confidence.
    Medium,
    /// Findings of high confidence.
    High,
    /// Only keys the provider accepted (implies --verify).
    Active,
}

impl FailOn {
    /// The confidence at which findings fail (`None`: only active keys).
    pub fn level(self) -> Option<keyhound::evidence::Confidence> {
        use keyhound::evidence::Confidence;
        match self {
            FailOn::Low => Some(Confidence::Low),
            FailOn::Medium => Some(Confidence::Medium),
            FailOn::High => Some(Confidence::High),
            FailOn::Active => None,
        }
    }
}

/// Parses `--verify-timeout`: seconds, fractions allowed.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t > 0.0 && *t <= 600.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("`{s}` is not a number of seconds between 0 and 600"))
}

/// The client, with the testing hook applied (and announced).
pub fn verifier(timeout: Duration) -> anyhow::Result<Verifier> {
    let provider_override = std::env::var(PROVIDER_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty());
    if let Some(url) = &provider_override {
        eprintln!("keyhound: note: {PROVIDER_URL_VAR} is set: every provider check goes to {url}");
    }
    let mut options = VerifyOptions::default();
    options.timeout = timeout;
    options.provider_override = provider_override;
    Ok(Verifier::new(options)?)
}

/// What a run asks of providers: built from `--verify`, `--only-verified`, `--fail-on active`
/// and `--verify-timeout`.
#[derive(Debug, Clone)]
pub struct Verify {
    /// Seconds to wait for each answer.
    pub timeout: Duration,
    /// Keep only the findings whose key the provider accepted.
    pub only_verified: bool,
    /// Announce keys in full.
    pub no_redact: bool,
}

impl Verify {
    /// Sends each finding's secret to the host of its rule's check (`checks`, in the order of
    /// `findings`; saying first, on stderr, which key goes where), records the answers,
    /// applies `--only-verified`, and returns the summary line.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        checks: &[Option<Check>],
    ) -> anyhow::Result<String> {
        let targets: Vec<(usize, &Check)> = checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
            .filter(|&(i, _)| i < findings.len())
            .collect();
        let mut announced = std::collections::HashSet::new();
        for &(i, check) in &targets {
            let f = &findings[i];
            if announced.insert((check.url_template(), f.secret.clone())) {
                let shown = if self.no_redact {
                    f.secret.clone()
                } else {
                    redact(&f.secret)
                };
                eprintln!(
                    "keyhound: verify: {} {} -> {} ({} {})",
                    f.rule_id,
                    printable(&shown),
                    check.host(),
                    check.method().as_str(),
                    check.url_template()
                );
            }
        }
        let verifier = verifier(self.timeout)?;
        let jobs: Vec<(&Check, &str)> = targets
            .iter()
            .map(|&(i, c)| (c, findings[i].secret.as_str()))
            .collect();
        let answers = verifier.check_all(&jobs);
        for (&(i, _), answer) in targets.iter().zip(answers) {
            findings[i].verification = Some(answer);
        }
        let checked = targets.len();
        let count = |s: Status| {
            findings
                .iter()
                .filter(|f| f.verification.as_ref().map(|v| v.status) == Some(s))
                .count()
        };
        let line = format!(
            "verified {checked} finding{} with their providers: {} active, {} inactive, {} unknown",
            if checked == 1 { "" } else { "s" },
            count(Status::Active),
            count(Status::Inactive),
            count(Status::Unknown),
        );
        if self.only_verified {
            findings.retain(is_active);
        }
        Ok(line)
    }
}

/// Whether the provider accepted the finding's secret.
pub fn is_active(f: &Finding) -> bool {
    matches!(&f.verification, Some(v) if v.status == Status::Active)
}
