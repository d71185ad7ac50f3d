//! HTTP Basic credentials (`Authorization: Basic …`): the base64 of `user:password`. A value
//! that does not decode to that is not reported; one whose password is a placeholder or a
//! variable reference is not either. The password decides the confidence.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::matcher::heuristics;

const STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Passwords that documentation writes for "your password here".
const PLACEHOLDER_PASSWORDS: &[&str] = &[
    "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "changeme",
    "admin", "root", "guest", "test", "user", "username", "demo", "foo", "bar", "foobar",
];

/// Decoded Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basic {
    /// The user name (may be empty: some services take a token as the password of no user).
    pub user: String,
    /// The password.
    pub password: String,
}

impl Basic {
    /// Decodes `value` as Basic credentials, or says why it is none (or a placeholder).
    pub fn decode(value: &[u8]) -> Result<Basic, &'static str> {
        let bytes = STANDARD
            .decode(value)
            .map_err(|_| "its value is not base64")?;
        let text = String::from_utf8(bytes).map_err(|_| "it does not decode to text")?;
        if text.chars().any(char::is_control) {
            return Err("it does not decode to text");
        }
        let (user, password) = text
            .split_once(':')
            .ok_or("it does not decode to user:password")?;
        if password.len() < 3 {
            return Err("its password is empty or too short");
        }
        let lower = password.to_ascii_lowercase();
        if PLACEHOLDER_PASSWORDS.contains(&lower.as_str()) || password == user {
            return Err("its password is a placeholder");
        }
        if heuristics::generic_value(password.as_bytes(), Some(b"password")).is_some() {
            return Err("its password is a placeholder, a reference or a word");
        }
        Ok(Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn user_and_password_decode() {
        let password = ["q8Zt2L", "mX9vR4"].concat();
        let basic = Basic::decode(b64(&format!("deploy:{password}")).as_bytes()).unwrap();
        assert_eq!(basic.user, "deploy");
        assert_eq!(basic.password, password);
        let unpadded = b64(&format!(":{password}x"));
        let basic = Basic::decode(unpadded.trim_end_matches('=').as_bytes()).unwrap();
        assert_eq!(basic.user, "");
    }

    #[test]
    fn placeholders_and_non_credentials_are_refused() {
        for text in [
            "user:password",
            "admin:admin",
            "name:passwd",
            "user:$TOKEN",
            "user:${TOKEN}",
            "user:<token>",
            "no colon here",
            "user:",
        ] {
            assert!(Basic::decode(b64(text).as_bytes()).is_err(), "{text}");
        }
        assert!(Basic::decode(b"%%%").is_err());
        assert!(Basic::decode(b64("\u{1}\u{2}:xyz123abc").as_bytes()).is_err());
    }
}
