//! JSON Web Tokens as evidence: the header and the claims of a compact token (a signed JWS,
//! `header.payload.signature`, or an encrypted JWE of five parts) decoded from base64url JSON,
//! and what they say: a Supabase `service_role` key (it bypasses row-level security), a public
//! `anon` key, a user's session, the Supabase CLI's local keys and the jwt.io sample (fixtures
//! by value), an expiry long past. Nothing is verified: the signing key is not known, and a
//! token's claims are what its issuer wrote, which is all a scanner needs.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

use super::Confidence;

/// Base64url as JWTs use it, padded or not, also tolerating the standard alphabet's padding.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A decoded compact JWT.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Jwt {
    /// The JOSE header (`alg`, `typ`, `kid`, `enc`…).
    pub header: Map<String, Value>,
    /// The claims; `None` for an encrypted token, whose payload cannot be read.
    pub claims: Option<Map<String, Value>>,
    /// Whether it carries a signature (a JWS with an algorithm other than `none` and a
    /// non-empty third part, or any JWE).
    pub signed: bool,
}

fn json_object(part: &[u8]) -> Option<Map<String, Value>> {
    let part = part
        .strip_suffix(b"==")
        .or(part.strip_suffix(b"="))
        .unwrap_or(part);
    let bytes = B64URL.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

impl Jwt {
    /// Decodes a compact token. `Err` says why it is not one.
    pub fn decode(token: &[u8]) -> Result<Jwt, &'static str> {
        let parts: Vec<&[u8]> = token.split(|&b| b == b'.').collect();
        if parts.len() != 3 && parts.len() != 5 {
            return Err("neither three nor five dot-separated parts");
        }
        let header = json_object(parts[0]).ok_or("the header is not base64url JSON")?;
        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or("the header has no algorithm")?;
        if parts.len() == 5 {
            if !header.contains_key("enc") {
                return Err("five parts but no encryption in the header");
            }
            return Ok(Jwt {
                header,
                claims: None,
                signed: true,
            });
        }
        let claims = json_object(parts[1]).ok_or("the payload is not base64url JSON")?;
        let signed = !alg.eq_ignore_ascii_case("none") && !parts[2].is_empty();
        Ok(Jwt {
            header,
            claims: Some(claims),
            signed,
        })
    }

    /// A string claim.
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.as_ref()?.get(name)?.as_str()
    }

    /// A numeric date claim (`exp`, `iat`), in seconds since the epoch.
    pub fn date(&self, name: &str) -> Option<i64> {
        let v = self.claims.as_ref()?.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }
}

/// What the claims say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not a live credential, by value (the text says why).
    Fixture(String),
    /// A token: how likely it is live, the evidence, and whether a test or vendored path may
    /// still mark it a fixture (not for a `service_role` key, reported wherever it is).
    Token {
        /// Confidence.
        confidence: Confidence,
        /// The evidence, in words.
        context: Vec<String>,
        /// Place evidence may mark it a fixture.
        place_applies: bool,
    },
}

/// Domains of documentation examples (RFC 2606); a token made out to them is a sample.
const EXAMPLE_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// Judges a decoded token, `now` being the time in seconds since the epoch.
pub(crate) fn judge(jwt: &Jwt, now: i64) -> Verdict {
    let iss = jwt.claim("iss");
    if iss == Some("supabase-demo") {
        return Verdict::Fixture(
            "the Supabase CLI's local development key (iss supabase-demo), the same for everyone"
                .into(),
        );
    }
    if jwt.claim("sub") == Some("1234567890") && jwt.claim("name") == Some("John Doe") {
        return Verdict::Fixture("the jwt.io sample token".into());
    }
    if let Some(claims) = &jwt.claims {
        let example = claims.values().filter_map(Value::as_str).any(|v| {
            let v = v.to_ascii_lowercase();
            EXAMPLE_DOMAINS.iter().any(|d| v.ends_with(d))
        });
        if example {
            return Verdict::Fixture("its claims name an example domain (RFC 2606)".into());
        }
    }
    let mut context = Vec::new();
    let mut place_applies = true;
    let role = jwt.claim("role");
    let confidence = if jwt.claims.is_none() {
        context.push("an encrypted token (JWE), such as a session cookie's value".into());
        Confidence::Medium
    } else if !jwt.signed {
        context.push("an unsigned token (alg none or no signature): it proves nothing".into());
        Confidence::Low
    } else if role == Some("service_role") {
        let project = jwt
            .claim("ref")
            .map(|r| format!(" of project `{r}`"))
            .unwrap_or_default();
        context.push(format!(
            "a Supabase service_role key{project}: it bypasses row-level security"
        ));
        place_applies = false;
        Confidence::High
    } else if matches!(role, Some("anon") | Some("public")) {
        context.push(format!(
            "a public client key (role {}): it still matters committed next to its project URL",
            role.unwrap_or_default()
        ));
        Confidence::Medium
    } else if role == Some("authenticated") {
        context.push("a user's session token (role authenticated)".into());
        Confidence::Medium
    } else {
        context.push("a signed JSON Web Token".into());
        Confidence::Medium
    };
    if let Some(iss) = iss.filter(|i| i.len() <= 100) {
        if public_issuer(iss) {
            // Test suites make their tokens up; a token a live service issued was captured
            // from it, wherever it is kept.
            place_applies = false;
            context.push(format!(
                "issued by the service at `{iss}`: reported wherever it is"
            ));
        } else {
            context.push(format!("issued by `{iss}`"));
        }
    }
    if let Some(exp) = jwt.date("exp") {
        if exp < now {
            context.push(format!(
                "expired on {} (still reported: the signing key may still be in use, and some \
                 services do not check the expiry)",
                date(exp)
            ));
        }
    }
    Verdict::Token {
        confidence,
        context,
        place_applies,
    }
}

/// An `https://` issuer on a public host name: not localhost, an address, or a reserved test or
/// example domain.
fn public_issuer(iss: &str) -> bool {
    let Some(rest) = iss.strip_prefix("https://") else {
        return false;
    };
    let host = rest
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let reserved = ["localhost", "example.com", "example.org", "example.net"];
    let reserved_tld = [
        ".local",
        ".localhost",
        ".test",
        ".example",
        ".invalid",
        ".internal",
    ];
    host.contains('.')
        && !host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && !reserved
            .iter()
            .any(|r| host == *r || host.ends_with(&format!(".{r}")))
        && !reserved_tld.iter().any(|t| host.ends_with(t))
}

/// `YYYY-MM-DD` of a Unix time (the proleptic Gregorian calendar, as in `date -u`).
pub fn date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// A token with these claims and a random signature (a `{base64url:43}` stand-in).
    fn token(claims: &str) -> String {
        let sig: String = (0..43)
            .map(|_| {
                let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                a[fastrand::usize(..a.len())] as char
            })
            .collect();
        format!(
            "{}.{}.{sig}",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(claims)
        )
    }

    fn verdict(claims: &str) -> Verdict {
        judge(
            &Jwt::decode(token(claims).as_bytes()).unwrap(),
            1_700_000_000,
        )
    }

    #[test]
    fn decodes_header_and_claims() {
        let t = token(r#"{"iss":"supabase","ref":"abcd","role":"service_role","exp":2028004619}"#);
        let jwt = Jwt::decode(t.as_bytes()).unwrap();
        assert_eq!(jwt.header["alg"], "HS256");
        assert_eq!(jwt.claim("role"), Some("service_role"));
        assert_eq!(jwt.date("exp"), Some(2_028_004_619));
        assert!(jwt.signed);
        // Padded parts decode too.
        let padded = t.replacen('.', "==.", 1);
        assert!(Jwt::decode(padded.as_bytes()).is_ok());
    }

    #[test]
    fn not_tokens_are_refused() {
        assert!(Jwt::decode(b"eyJhbGciOiJIUzI1NiJ9").is_err());
        let bad_header = format!("{}.{}.sig", b64("not json"), b64("{}"));
        assert!(Jwt::decode(bad_header.as_bytes()).is_err());
        let no_alg = format!("{}.{}.sig", b64(r#"{"typ":"JWT"}"#), b64("{}"));
        assert!(Jwt::decode(no_alg.as_bytes()).is_err());
        let bad_payload = format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), "e30x!!");
        assert!(Jwt::decode(bad_payload.as_bytes()).is_err());
    }

    #[test]
    fn encrypted_and_unsigned_tokens() {
        let jwe = format!(
            "{}..{}.{}.{}",
            b64(r#"{"alg":"dir","enc":"A256GCM"}"#),
            "iv0123456789",
            "ciphertextciphertext",
            "tag0123456789"
        );
        let jwt = Jwt::decode(jwe.as_bytes()).unwrap();
        assert!(jwt.claims.is_none());
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"x"}"#));
        let jwt = Jwt::decode(unsigned.as_bytes()).unwrap();
        assert!(!jwt.signed);
        assert!(matches!(
            judge(&jwt, 0),
            Verdict::Token {
                confidence: Confidence::Low,
                ..
            }
        ));
    }

    #[test]
    fn claims_decide() {
        match verdict(r#"{"iss":"supabase","ref":"abcd","role":"service_role"}"#) {
            Verdict::Token {
                confidence,
                context,
                place_applies,
            } => {
                assert_eq!(confidence, Confidence::High);
                assert!(!place_applies);
                assert!(context[0].contains("service_role"), "{context:?}");
            }
            v => panic!("{v:?}"),
        }
        match verdict(r#"{"iss":"supabase","role":"anon"}"#) {
            Verdict::Token { confidence, .. } => assert_eq!(confidence, Confidence::Medium),
            v => panic!("{v:?}"),
        }
        assert!(matches!(
            verdict(r#"{"iss":"supabase-demo","role":"service_role"}"#),
            Verdict::Fixture(_)
        ));
        assert!(matches!(
            verdict(r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#),
            Verdict::Fixture(_)
        ));
        assert!(matches!(
            verdict(r#"{"sub":"42","email":"ann@example.com"}"#),
            Verdict::Fixture(_)
        ));
    }

    #[test]
    fn long_past_expiry_is_said_but_still_reported() {
        match verdict(r#"{"sub":"admin","exp":1684203625}"#) {
            Verdict::Token {
                confidence,
                context,
                ..
            } => {
                assert_eq!(confidence, Confidence::Medium);
                assert!(
                    context.iter().any(|c| c.contains("expired on 2023-05-16")),
                    "{context:?}"
                );
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn tokens_of_public_issuers_are_reported_wherever_they_are() {
        let public = r#"{"iss":"https://clerk.acme.io","sid":"sess_x","exp":1682635621}"#;
        for (claims, applies) in [
            (public, false),
            (r#"{"iss":"https://localhost:8080/auth"}"#, true),
            (r#"{"iss":"https://auth.acme.test"}"#, true),
            (r#"{"iss":"https://10.0.0.1/"}"#, true),
            (r#"{"iss":"test-issuer"}"#, true),
        ] {
            match verdict(claims) {
                Verdict::Token { place_applies, .. } => {
                    assert_eq!(place_applies, applies, "{claims}")
                }
                v => panic!("{claims}: {v:?}"),
            }
        }
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_684_203_625), "2023-05-16");
    }
}
