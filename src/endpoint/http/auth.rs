//! Credentials as they are sent (SPEC sections 9 and 10): a secret that a command gives is
//! asked for again after a 401; an OAuth 2.0 client-credentials token is fetched when first
//! needed, reused until 30 s before it expires, and fetched again after a 401.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::Url;

use super::redact_url;
use crate::endpoint::options::{Auth, OAuth2, Secret};
use crate::endpoint::spec::with_query;

/// A token is renewed this long before the `expires_in` its server gave.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(30);

/// One endpoint's credentials and what they have fetched so far.
#[derive(Debug)]
pub(super) struct Credentials {
    auth: Auth,
    /// A command's secret as given again after a 401 (the configured value until then).
    renewed: Mutex<Option<String>>,
    /// The OAuth 2.0 token in use.
    token: tokio::sync::Mutex<Option<Token>>,
}

#[derive(Debug)]
struct Token {
    value: String,
    renew_at: Option<Instant>,
}

impl Credentials {
    pub(super) fn new(auth: Auth) -> Self {
        Credentials {
            auth,
            renewed: Mutex::new(None),
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// `url` with a query secret set (replacing one a server's link may echo).
    pub(super) fn url_for(&self, url: &Url) -> Url {
        match &self.auth {
            Auth::Query { name, value } => with_query(url, name, &self.current(value)),
            _ => url.clone(),
        }
    }

    /// The request with the credentials' headers on; `Err` when a token cannot be had.
    pub(super) async fn authorize(
        &self,
        builder: reqwest::RequestBuilder,
        client: &reqwest::Client,
    ) -> Result<reqwest::RequestBuilder, String> {
        Ok(match &self.auth {
            Auth::None | Auth::Query { .. } => builder,
            Auth::Basic { username, password } => {
                builder.basic_auth(username, Some(self.current(password)))
            }
            Auth::Bearer(token) => builder.bearer_auth(self.current(token)),
            Auth::Header { name, value } => builder.header(name, self.current(value)),
            Auth::OAuth2(oauth2) => builder.bearer_auth(self.token(oauth2, client).await?),
        })
    }

    /// After a 401: whether there is something to renew (a command's secret, asked again
    /// now; a token, fetched again when next needed).
    pub(super) async fn renew(&self) -> Result<bool, String> {
        if let Auth::OAuth2(_) = &self.auth {
            *self.token.lock().await = None;
            return Ok(true);
        }
        let command = match &self.auth {
            Auth::Basic {
                password: secret, ..
            }
            | Auth::Bearer(secret)
            | Auth::Header { value: secret, .. }
            | Auth::Query { value: secret, .. } => secret.command.clone(),
            _ => None,
        };
        let Some(command) = command else {
            return Ok(false);
        };
        let value = tokio::task::spawn_blocking(move || crate::project::run_command(&command))
            .await
            .map_err(|error| error.to_string())??;
        *self
            .renewed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(value);
        Ok(true)
    }

    fn current(&self, secret: &Secret) -> String {
        let renewed = self
            .renewed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        renewed.clone().unwrap_or_else(|| secret.value.clone())
    }

    /// The token in use, fetched first when there is none or it is about to expire.
    async fn token(&self, oauth2: &OAuth2, client: &reqwest::Client) -> Result<String, String> {
        let mut token = self.token.lock().await;
        let fresh = token
            .as_ref()
            .is_some_and(|token| token.renew_at.is_none_or(|at| Instant::now() < at));
        if !fresh {
            *token = Some(fetch_token(oauth2, client).await?);
        }
        Ok(token
            .as_ref()
            .map(|token| token.value.clone())
            .unwrap_or_default())
    }
}

/// A client-credentials grant (RFC 6749, 4.4) at the token URL.
async fn fetch_token(oauth2: &OAuth2, client: &reqwest::Client) -> Result<Token, String> {
    use oauth2::basic::BasicClient;
    use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
    let auth_type = match oauth2.secret_in_body {
        true => AuthType::RequestBody,
        false => AuthType::BasicAuth,
    };
    let grant = BasicClient::new(ClientId::new(oauth2.client_id.clone()))
        .set_client_secret(ClientSecret::new(oauth2.client_secret.value.clone()))
        .set_token_uri(TokenUrl::from_url(oauth2.token_url.clone()))
        .set_auth_type(auth_type);
    let mut request = grant.exchange_client_credentials();
    if let Some(scope) = &oauth2.scope {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if let Some(audience) = &oauth2.audience {
        request = request.add_extra_param("audience", audience.clone());
    }
    let started = Instant::now();
    let answer = request.request_async(client).await.map_err(|error| {
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            reason.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        format!(
            "asking {} for a token: {reason}",
            redact_url(&oauth2.token_url)
        )
    })?;
    let renew_at = answer
        .expires_in()
        .map(|lifetime| started + lifetime.saturating_sub(RENEW_BEFORE_EXPIRY));
    Ok(Token {
        value: answer.access_token().secret().clone(),
        renew_at,
    })
}
