//! Secrets from the operating system's random source.

use crate::error::{Error, Result};

/// `n` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::new("cannot read the system's random source").cause(e.to_string()))?;
    Ok(buf)
}

/// A random token of `N` bytes, as lowercase hex.
pub fn hex_token<const N: usize>() -> Result<String> {
    Ok(bytes::<N>()?.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_differ_and_are_hex() {
        let (a, b) = (
            super::hex_token::<16>().unwrap(),
            super::hex_token::<16>().unwrap(),
        );
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
