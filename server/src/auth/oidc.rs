//! OpenID Connect sign-in through the `openidconnect` crate: discovery, the authorization-code flow
//! with PKCE, `state` and `nonce`, ID-token validation, groups, and RP-initiated logout.

use std::sync::Arc;
use std::time::Duration;

use app::access::model::Principal;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseMode, CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadata, RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::RwLock;
use url::Url;

use crate::store::now_ms;

/// How long a started sign-in may take before its `state` is forgotten.
const PENDING_TTL_MS: i64 = 10 * 60 * 1000;
/// Sign-ins started in other tabs of the same browser that are kept waiting at once.
const PENDING_MAX: usize = 4;
/// Time allowed for each call to the identity provider.
const IDP_TIMEOUT: Duration = Duration::from_secs(10);

/// Claims outside the standard set, kept as JSON so the groups claim can be named in configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// The discovery field RP-initiated logout needs (not part of the core metadata).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct LogoutMetadata {
    end_session_endpoint: Option<Url>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;
type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type PortalClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider and how the portal is registered with it.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The portal's public URL; the redirect URI is this plus `/auth/callback`.
    pub public_url: Url,
    pub groups_claim: String,
    pub group_prefix: String,
    /// Scopes besides `openid`.
    pub scopes: Vec<String>,
}

/// Why a sign-in did not complete, by step; each becomes a page in `crate::error`.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the identity provider's configuration could not be read from {url}: {reason}")]
    Discovery { url: String, reason: String },
    #[error("the identity provider refused the sign-in: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the sign-in response has no `{0}` parameter")]
    MissingParameter(&'static str),
    #[error("the sign-in response came from {0}, not from the configured identity provider")]
    WrongIssuer(String),
    #[error(
        "this sign-in response does not belong to a sign-in started in this browser: it was used already, expired after 10 minutes, or was forged"
    )]
    UnknownState,
    #[error("exchanging the authorization code at the token endpoint failed: {0}")]
    TokenExchange(String),
    #[error("the token endpoint's answer has no ID token")]
    NoIdToken,
    #[error("the ID token was rejected: {0}")]
    IdToken(String),
    #[error("reading the user's groups from the UserInfo endpoint failed: {0}")]
    UserInfo(String),
    #[error("the session could not be stored: {0}")]
    Session(String),
}

impl SignInError {
    /// Which step of sign-in failed, in words for the error page.
    pub fn step(&self) -> &'static str {
        match self {
            SignInError::Discovery { .. } => "Step 1 of 4: contacting the identity provider",
            SignInError::Refused { .. } => "Step 2 of 4: signing in at the identity provider",
            SignInError::MissingParameter(_)
            | SignInError::WrongIssuer(_)
            | SignInError::UnknownState => "Step 3 of 4: returning to Portolan",
            SignInError::TokenExchange(_)
            | SignInError::NoIdToken
            | SignInError::IdToken(_)
            | SignInError::UserInfo(_) => "Step 4 of 4: checking the identity provider's answer",
            SignInError::Session(_) => "Step 4 of 4: starting the session",
        }
    }
}

/// A sign-in started in this browser and not yet finished (kept in the session).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    pkce_verifier: String,
    started_ms: i64,
    /// Where to go after signing in (a path on the portal).
    pub next: String,
}

/// Who signed in, and the ID token to hint at logout.
pub struct Verified {
    pub principal: Principal,
    pub id_token: String,
}

/// The configured provider: settings, an HTTP client, and the last discovery document.
pub struct Oidc {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    discovered: RwLock<Option<Arc<Metadata>>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.settings.issuer.as_str())
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Self, String> {
        // No redirects: a provider that redirects its endpoints could send the portal anywhere.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(IDP_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for the identity provider: {e}"))?;
        Ok(Oidc {
            settings,
            http,
            discovered: RwLock::new(None),
        })
    }

    pub fn issuer(&self) -> &Url {
        &self.settings.issuer
    }

    fn redirect_url(&self) -> Result<RedirectUrl, SignInError> {
        let url = self
            .settings
            .public_url
            .join("/auth/callback")
            .map_err(|e| SignInError::Session(format!("bad --public-url: {e}")))?;
        Ok(RedirectUrl::from_url(url))
    }

    /// Reads the discovery document and the signing keys afresh, and keeps them for callbacks.
    async fn discover(&self) -> Result<Arc<Metadata>, SignInError> {
        // Compared with the document's `issuer` as a string: `https://idp` parses to
        // `https://idp/`, which a provider that calls itself `https://idp` would not match.
        let issuer_text = self.settings.issuer.as_str();
        let issuer_text = if self.settings.issuer.path() == "/" {
            issuer_text.trim_end_matches('/')
        } else {
            issuer_text
        };
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer_text.trim_end_matches('/')
        );
        let issuer =
            IssuerUrl::new(issuer_text.to_string()).map_err(|e| SignInError::Discovery {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SignInError::Discovery {
                url,
                reason: crate::error::error_chain(&e),
            })?;
        let metadata = Arc::new(metadata);
        *self.discovered.write().await = Some(metadata.clone());
        Ok(metadata)
    }

    async fn metadata(&self) -> Result<Arc<Metadata>, SignInError> {
        if let Some(m) = self.discovered.read().await.clone() {
            return Ok(m);
        }
        self.discover().await
    }

    fn client(&self, metadata: &Metadata) -> Result<PortalClient, SignInError> {
        Ok(PortalClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect_url()?))
    }

    /// Starts a sign-in: where to send the browser, and what to remember until it comes back.
    /// Discovery is read afresh each time, so a provider that is down is reported at once and
    /// rotated keys are picked up.
    pub async fn begin(&self, next: String) -> Result<(Url, Pending), SignInError> {
        let metadata = self.discover().await?;
        let client = self.client(&metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url,
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                started_ms: now_ms(),
                next,
            },
        ))
    }

    /// Checks the `iss` parameter of the response (RFC 9207), when the provider sends one.
    pub fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), SignInError> {
        match iss {
            Some(iss)
                if iss.trim_end_matches('/')
                    != self.settings.issuer.as_str().trim_end_matches('/') =>
            {
                Err(SignInError::WrongIssuer(iss.to_string()))
            }
            _ => Ok(()),
        }
    }

    /// Finishes a sign-in: exchanges the code (with the PKCE verifier), validates the ID token
    /// (signature, issuer, audience, expiry, nonce) and collects the groups.
    pub async fn finish(&self, pending: Pending, code: String) -> Result<Verified, SignInError> {
        let metadata = self.metadata().await?;
        let client = self.client(&metadata)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SignInError::TokenExchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::TokenExchange(crate::error::error_chain(&e)))?;
        let id_token = tokens.id_token().ok_or(SignInError::NoIdToken)?;
        let nonce = Nonce::new(pending.nonce);
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Perhaps the provider rotated its keys since discovery: read them again, once.
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(_)) => {
                let metadata = self.discover().await?;
                let client = self.client(&metadata)?;
                id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| SignInError::IdToken(e.to_string()))?
                    .clone()
            }
            Err(e) => return Err(SignInError::IdToken(e.to_string())),
        };

        let subject = claims.subject().to_string();
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .or_else(|| claims.preferred_username().map(|u| u.to_string()))
            .or_else(|| claims.email().map(|e| e.to_string()))
            .unwrap_or_else(|| subject.clone());
        let groups = match groups_in(
            &claims.additional_claims().rest,
            &self.settings.groups_claim,
        ) {
            Some(groups) => groups,
            None => self.userinfo_groups(&client, &tokens, &claims).await?,
        };
        let groups = groups
            .into_iter()
            .map(|g| format!("{}{g}", self.settings.group_prefix))
            .collect();
        Ok(Verified {
            principal: Principal {
                subject,
                name,
                groups,
            },
            id_token: id_token.to_string(),
        })
    }

    /// Groups from UserInfo, for providers that keep them out of the ID token; none if the
    /// provider has no UserInfo endpoint.
    async fn userinfo_groups(
        &self,
        client: &PortalClient,
        tokens: &Tokens,
        claims: &openidconnect::IdTokenClaims<ExtraClaims, CoreGenderClaim>,
    ) -> Result<Vec<String>, SignInError> {
        let Ok(request) = client.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        ) else {
            return Ok(Vec::new());
        };
        let info: openidconnect::UserInfoClaims<ExtraClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::UserInfo(crate::error::error_chain(&e)))?;
        Ok(
            groups_in(&info.additional_claims().rest, &self.settings.groups_claim)
                .unwrap_or_default(),
        )
    }

    /// Where to send the browser to end the provider's session too (RP-initiated logout), if the
    /// provider supports it. Uses the discovery document already read; never waits on the network.
    pub async fn logout_url(&self, id_token_hint: Option<&str>) -> Option<Url> {
        let metadata = self.discovered.read().await.clone()?;
        let mut url = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let back = self.settings.public_url.join("/").ok()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("post_logout_redirect_uri", back.as_str());
        }
        Some(url)
    }
}

/// The groups claim as a list of strings; a single string counts as one group.
fn groups_in(claims: &Map<String, Value>, name: &str) -> Option<Vec<String>> {
    match claims.get(name)? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        Value::String(one) => Some(vec![one.clone()]),
        _ => None,
    }
}

/// Keeps the sign-ins this browser started recently, adding `new` (oldest dropped first).
pub fn remember(mut pending: Vec<Pending>, new: Pending) -> Vec<Pending> {
    let now = now_ms();
    pending.retain(|p| now - p.started_ms < PENDING_TTL_MS);
    pending.push(new);
    let excess = pending.len().saturating_sub(PENDING_MAX);
    pending.drain(..excess);
    pending
}

/// Takes the pending sign-in `state` names out of the list (so it can never be used twice).
pub fn take(pending: &mut Vec<Pending>, state: &str) -> Option<Pending> {
    let now = now_ms();
    let index = pending.iter().position(|p| p.state == state)?;
    let found = pending.remove(index);
    (now - found.started_ms < PENDING_TTL_MS).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(state: &str, started_ms: i64) -> Pending {
        Pending {
            state: state.into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            started_ms,
            next: "/".into(),
        }
    }

    #[test]
    fn a_state_can_be_taken_once() {
        let mut list = remember(Vec::new(), pending("a", now_ms()));
        assert!(take(&mut list, "b").is_none());
        assert!(take(&mut list, "a").is_some());
        assert!(take(&mut list, "a").is_none());
    }

    #[test]
    fn old_and_excess_sign_ins_are_forgotten() {
        let mut list = vec![pending("old", now_ms() - PENDING_TTL_MS - 1)];
        for s in ["1", "2", "3", "4", "5"] {
            list = remember(list, pending(s, now_ms()));
        }
        let states: Vec<&str> = list.iter().map(|p| p.state.as_str()).collect();
        assert_eq!(states, ["2", "3", "4", "5"]);
    }

    #[test]
    fn groups_come_as_a_list_or_a_single_string() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"groups":["a","b",3],"role":"x","n":1}"#).expect("json");
        assert_eq!(
            groups_in(&claims, "groups"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(groups_in(&claims, "role"), Some(vec!["x".into()]));
        assert_eq!(groups_in(&claims, "n"), None);
        assert_eq!(groups_in(&claims, "missing"), None);
    }
}
