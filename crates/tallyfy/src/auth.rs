//! The API token: held as a secret, sent only as a sensitive header.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// A Tallyfy access token (personal or OAuth). Its `Debug` never shows the value.
///
/// ```
/// let token = tallyfy::Token::new("s3cr3t");
/// assert_eq!(format!("{token:?}"), "Token([redacted])");
/// ```
#[derive(Clone)]
pub struct Token(SecretString);

impl Token {
    /// Wraps a token; it is checked when the client is built.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The `Authorization: Bearer …` header value, marked sensitive so that the HTTP
    /// stack never logs it. A token that is not a legal header value (a trailing
    /// newline from a file, say) is an `invalid_input` error that does not show it.
    pub(crate) fn header(&self) -> Result<HeaderValue, Error> {
        let token = self.0.expose_secret();
        if token.trim().is_empty() {
            return Err(Error::invalid_input(None, "the token is empty"));
        }
        let mut value = HeaderValue::try_from(format!("Bearer {token}")).map_err(|_| {
            let hint = if token.trim_end() != token {
                " (it ends with white space or a newline: trim it)"
            } else {
                ""
            };
            Error::invalid_input(
                None,
                format!("the token holds characters that cannot be sent in a header{hint}"),
            )
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl From<&str> for Token {
    fn from(token: &str) -> Self {
        Self::new(token)
    }
}

impl From<String> for Token {
    fn from(token: String) -> Self {
        Self::new(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_newline_is_a_clear_error_that_hides_the_token() {
        let err = Token::new("abc123\n").header().unwrap_err();
        assert!(err.is_invalid_input());
        let text = format!("{err} {err:?}");
        assert!(text.contains("newline"), "{text}");
        assert!(!text.contains("abc123"), "{text}");
    }

    #[test]
    fn the_header_is_sensitive() {
        let value = Token::new("abc").header().unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer abc");
    }

    #[test]
    fn an_empty_token_is_refused() {
        assert!(Token::new("  ").header().unwrap_err().is_invalid_input());
    }
}
