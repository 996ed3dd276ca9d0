//! Sign-ins in progress (state, nonce, PKCE verifier) kept in the browser, in a short-lived cookie
//! sealed with ChaCha20-Poly1305: starting a sign-in stores nothing on the server, so anonymous
//! visitors cannot fill the database, and any replica holding the key can finish it.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::OnceCell;

use super::oidc::Pending;
use crate::store::{Db, StoreError, settings};

/// The cookie's name; it is sent to `/auth` paths only.
pub const COOKIE: &str = "portolan_signin";
/// The setting that holds the sealing key (hex), made on first use and shared by replicas.
const KEY_SETTING: &str = "signin_cookie_key";
/// Binds sealed values to this use, so no other sealed value of the portal can stand in.
const AAD: &[u8] = b"portolan sign-in v1";
/// Browsers keep cookies up to about 4 KB; older sign-ins are dropped to stay below this.
const MAX_COOKIE_BYTES: usize = 3_600;
/// A started sign-in may take this long (the pending entries expire on their own too).
const MAX_AGE_SECS: u64 = 600;

/// Seals and opens the cookie with the installation's key, read from the database once.
#[derive(Default)]
pub struct Sealer {
    key: OnceCell<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer { .. }")
    }
}

/// Why the sealing key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the operating system's random source failed")]
    Random,
    #[error(
        "the stored sign-in key is damaged; delete the setting {KEY_SETTING} to make a new one"
    )]
    BadKey,
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn random<const N: usize>() -> Result<[u8; N], SealError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SealError::Random)?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Sealer {
    async fn key(&self, db: &Db) -> Result<&LessSafeKey, SealError> {
        self.key
            .get_or_try_init(|| async {
                let fresh = hex(&random::<32>()?);
                let stored = settings::get_or_create(db, KEY_SETTING, &fresh).await?;
                let bytes = unhex(&stored).ok_or(SealError::BadKey)?;
                let key =
                    UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| SealError::BadKey)?;
                Ok(LessSafeKey::new(key))
            })
            .await
    }

    /// Adds a sign-in just started to those the browser holds: the `Set-Cookie` value to send.
    pub async fn start(
        &self,
        db: &Db,
        headers: &HeaderMap,
        new: Pending,
        secure: bool,
    ) -> Result<HeaderValue, SealError> {
        let list = self.open(db, headers).await?;
        self.cookie(db, super::oidc::remember(list, new), secure)
            .await
    }

    /// Takes the sign-in `state` names out of those the browser holds (each state works once):
    /// the sign-in, if it was there, and the `Set-Cookie` value that forgets it.
    pub async fn take(
        &self,
        db: &Db,
        headers: &HeaderMap,
        state: Option<&str>,
        secure: bool,
    ) -> Result<(Option<Pending>, Option<HeaderValue>), SealError> {
        let mut list = self.open(db, headers).await?;
        let Some(found) = state.and_then(|s| super::oidc::take(&mut list, s)) else {
            return Ok((None, None));
        };
        Ok((Some(found), Some(self.cookie(db, list, secure).await?)))
    }

    /// The sign-ins the browser's cookie holds; anything unreadable or forged counts as none.
    async fn open(&self, db: &Db, headers: &HeaderMap) -> Result<Vec<Pending>, SealError> {
        let Some(sealed) = cookie_value(headers) else {
            return Ok(Vec::new());
        };
        let key = self.key(db).await?;
        let Ok(mut raw) = URL_SAFE_NO_PAD.decode(sealed) else {
            return Ok(Vec::new());
        };
        if raw.len() < NONCE_LEN {
            return Ok(Vec::new());
        }
        let mut body = raw.split_off(NONCE_LEN);
        let Ok(nonce) = Nonce::try_assume_unique_for_key(&raw) else {
            return Ok(Vec::new());
        };
        let Ok(plain) = key.open_in_place(nonce, Aad::from(AAD), &mut body) else {
            return Ok(Vec::new());
        };
        Ok(serde_json::from_slice(plain).unwrap_or_default())
    }

    /// The `Set-Cookie` value that makes the browser hold `pending` (or forget it, when empty).
    async fn cookie(
        &self,
        db: &Db,
        mut pending: Vec<Pending>,
        secure: bool,
    ) -> Result<HeaderValue, SealError> {
        let attributes = format!(
            "; Path=/auth; HttpOnly; SameSite=Lax{}",
            if secure { "; Secure" } else { "" }
        );
        if pending.is_empty() {
            return Ok(header_value(format!("{COOKIE}=; Max-Age=0{attributes}")));
        }
        let key = self.key(db).await?;
        loop {
            let mut body = serde_json::to_vec(&pending).unwrap_or_default();
            let nonce_bytes = random::<NONCE_LEN>()?;
            key.seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(AAD),
                &mut body,
            )
            .map_err(|_| SealError::Random)?;
            let mut sealed = nonce_bytes.to_vec();
            sealed.extend_from_slice(&body);
            let value = URL_SAFE_NO_PAD.encode(&sealed);
            // The newest sign-in is last; drop the oldest until the cookie fits.
            if value.len() <= MAX_COOKIE_BYTES || pending.len() == 1 {
                return Ok(header_value(format!(
                    "{COOKIE}={value}; Max-Age={MAX_AGE_SECS}{attributes}"
                )));
            }
            pending.remove(0);
        }
    }
}

fn header_value(text: String) -> HeaderValue {
    // Made only of base64url and fixed ASCII attributes, so always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("0g"), None);
        assert_eq!(unhex("abc"), None);
    }
}
