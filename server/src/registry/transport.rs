//! One oci-client per registry host: HTTP or HTTPS, credentials, retries, and the translation of
//! oci-client errors into [`ImageError`]s that name the registry.

use std::{collections::HashMap, future::Future, net::IpAddr, sync::Arc, time::Duration};

use oci_client::{
    client::{ClientConfig, ClientProtocol},
    errors::{DigestError, OciDistributionError, OciErrorCode},
    secrets::RegistryAuth,
    Client, Reference, RegistryOperation,
};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use super::{auth::Credential, error::ImageError, report::SaveEvent, Emit, RetryPolicy};

const USER_AGENT: &str = concat!("kubefile-ls/", env!("CARGO_PKG_VERSION"));

/// Docker's rule: registries on loopback addresses are reached over plain HTTP without any
/// `--insecure-registry` flag.
pub fn is_loopback(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(h, _)| h),
        None => host_port
            .rsplit_once(':')
            .filter(|(h, _)| !h.contains(':'))
            .map_or(host_port, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The outcome of authenticating for one repository, computed once.
type AuthOnce = OnceCell<Result<(), ImageError>>;

/// How one registry is reached.
pub struct RegistryClient {
    /// As the user wrote it after normalisation (`docker.io`, `127.0.0.1:5000`).
    pub name: String,
    /// Manifests and token flows.
    pub client: Client,
    /// Blobs of registries that need no token (see [`RegistryClient::blobs`]).
    blob_client: Option<Client>,
    pub auth: RegistryAuth,
    /// "user `u` from /path/auth.json" when credentials were found.
    pub credential_description: Option<String>,
    /// The files searched, for "no credentials" hints.
    pub searched: Vec<String>,
    pub plain_http: bool,
    repositories: std::sync::Mutex<HashMap<String, Arc<AuthOnce>>>,
}

pub struct ClientSettings {
    pub insecure: bool,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl RegistryClient {
    /// `registry` is the normalised domain (`docker.io`), `probe` a reference on it used to
    /// test HTTPS for insecure registries, `credential` what the auth files hold for it.
    pub async fn connect(
        registry: &str,
        probe: &Reference,
        credential: Option<Credential>,
        searched: Vec<String>,
        settings: &ClientSettings,
    ) -> Self {
        let (auth, credential_description) = match credential {
            Some(c) => {
                let description = format!("user `{}` from {}", c.username, c.origin);
                (
                    RegistryAuth::Basic(c.username, c.password.expose().to_owned()),
                    Some(description),
                )
            }
            None => (RegistryAuth::Anonymous, None),
        };
        let config = |protocol, insecure| ClientConfig {
            protocol,
            accept_invalid_certificates: insecure,
            platform_resolver: None,
            connect_timeout: Some(settings.connect_timeout),
            read_timeout: Some(settings.read_timeout),
            user_agent: USER_AGENT,
            ..ClientConfig::default()
        };
        let plain_http = if is_loopback(registry) {
            true
        } else if settings.insecure {
            // Like Docker and containers/image: HTTPS without certificate checks first, plain
            // HTTP when the registry does not speak TLS at all.
            let probe_client = Client::new(config(ClientProtocol::Https, true));
            matches!(
                probe_client
                    .auth(probe, &RegistryAuth::Anonymous, RegistryOperation::Pull)
                    .await,
                Err(OciDistributionError::RequestError(_))
            )
        } else {
            false
        };
        let protocol = if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(config(protocol.clone(), settings.insecure));
        // oci-client asks `/v2/` for a token before every request to a registry that needs
        // none (it only caches real tokens). When anonymous access needs no token, blobs go
        // through a second client that holds no credentials and therefore never asks.
        let tokenless = match &auth {
            RegistryAuth::Anonymous => {
                matches!(
                    client
                        .auth(probe, &RegistryAuth::Anonymous, RegistryOperation::Pull)
                        .await,
                    Ok(None)
                )
            }
            _ => false,
        };
        client
            .store_auth_if_needed(probe.resolve_registry(), &auth)
            .await;
        let blob_client = tokenless.then(|| Client::new(config(protocol, settings.insecure)));
        Self {
            name: registry.to_owned(),
            client,
            blob_client,
            auth,
            credential_description,
            searched,
            plain_http,
            repositories: Default::default(),
        }
    }

    /// The client for blob requests.
    pub fn blobs(&self) -> &Client {
        self.blob_client.as_ref().unwrap_or(&self.client)
    }

    /// With credentials, authenticates once per repository (token flow or basic), so that a
    /// rejected password is reported as such instead of as an anonymous 401 later.
    pub async fn authenticate(
        &self,
        reference: &Reference,
        retry: &Retrier<'_>,
    ) -> Result<(), ImageError> {
        if matches!(self.auth, RegistryAuth::Anonymous) {
            return Ok(());
        }
        let cell = {
            let mut repositories = self.repositories.lock().expect("lock poisoned");
            repositories
                .entry(reference.repository().to_owned())
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            retry
                .run(self, "the registry token", |_| async {
                    self.client
                        .auth(reference, &self.auth, RegistryOperation::Pull)
                        .await
                        .map(|_| ())
                })
                .await
        })
        .await
        .clone()
    }

    /// The hint of a 401 error: whether credentials were used and where they came from.
    pub fn unauthorized_hint(&self) -> String {
        match &self.credential_description {
            Some(description) => format!("the credentials ({description}) were rejected"),
            None if self.searched.is_empty() => format!(
                "no credentials for {} (no auth file found); log in with `docker login`/`podman login` or pass --authfile",
                self.name
            ),
            None => format!(
                "no credentials for {} in {}; log in with `docker login`/`podman login` or pass --authfile",
                self.name,
                self.searched.join(", ")
            ),
        }
    }

    /// Translates an oci-client error; the boolean says whether trying again may help.
    pub fn classify(&self, what: &str, error: OciDistributionError) -> (ImageError, bool) {
        let registry = self.name.clone();
        let what = what.to_owned();
        match error {
            OciDistributionError::UnauthorizedError { .. } => (
                ImageError::Unauthorized {
                    registry,
                    hint: self.unauthorized_hint(),
                },
                false,
            ),
            OciDistributionError::AuthenticationFailure(reason) => (
                ImageError::Unauthorized {
                    registry,
                    hint: format!(
                        "{}; the token service said: {}",
                        self.unauthorized_hint(),
                        short(&reason)
                    ),
                },
                false,
            ),
            OciDistributionError::RegistryError { envelope, .. } => {
                let first = envelope.errors.first();
                let message = first
                    .map(|e| format!("{} {}", code_name(&e.code), short(&e.message)))
                    .unwrap_or_default();
                match first.map(|e| &e.code) {
                    Some(OciErrorCode::Unauthorized) => (
                        ImageError::Unauthorized {
                            registry,
                            hint: self.unauthorized_hint(),
                        },
                        false,
                    ),
                    Some(OciErrorCode::Denied) => {
                        let hint = match &self.credential_description {
                            Some(d) => format!(" for {d}"),
                            None => format!(" ({})", self.unauthorized_hint()),
                        };
                        (
                            ImageError::Denied {
                                registry,
                                what,
                                hint,
                            },
                            false,
                        )
                    }
                    Some(
                        OciErrorCode::ManifestUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound,
                    ) => (
                        ImageError::NotFound {
                            registry,
                            what,
                            detail: format!(": {message}"),
                        },
                        false,
                    ),
                    Some(OciErrorCode::Toomanyrequests) => (
                        ImageError::Http {
                            registry,
                            what,
                            status: 429,
                            message,
                        },
                        true,
                    ),
                    _ => (
                        ImageError::Http {
                            registry,
                            what,
                            status: 400,
                            message,
                        },
                        false,
                    ),
                }
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 => (
                    ImageError::Unauthorized {
                        registry,
                        hint: self.unauthorized_hint(),
                    },
                    false,
                ),
                403 => (
                    ImageError::Denied {
                        registry,
                        what,
                        hint: String::new(),
                    },
                    false,
                ),
                404 => (
                    ImageError::NotFound {
                        registry,
                        what,
                        detail: String::new(),
                    },
                    false,
                ),
                408 | 429 | 500..=599 => (
                    ImageError::Http {
                        registry,
                        what,
                        status: code,
                        message: short(&message),
                    },
                    true,
                ),
                _ => (
                    ImageError::Http {
                        registry,
                        what,
                        status: code,
                        message: short(&message),
                    },
                    false,
                ),
            },
            OciDistributionError::RequestError(error) => {
                let retry = error.is_timeout()
                    || error.is_connect()
                    || error.is_request()
                    || error.is_body()
                    || error.is_decode();
                (
                    ImageError::Network {
                        registry,
                        what,
                        message: error_chain(&error),
                    },
                    retry,
                )
            }
            OciDistributionError::IoError(error) => (
                ImageError::Network {
                    registry,
                    what,
                    message: error.to_string(),
                },
                true,
            ),
            OciDistributionError::DigestError(DigestError::VerificationError {
                expected,
                actual,
            }) => (
                ImageError::DigestMismatch {
                    registry,
                    what,
                    expected,
                    actual,
                },
                true,
            ),
            OciDistributionError::DigestError(error) => (
                ImageError::Network {
                    registry,
                    what,
                    message: error.to_string(),
                },
                false,
            ),
            other => (
                ImageError::Network {
                    registry,
                    what,
                    message: short(&other.to_string()),
                },
                false,
            ),
        }
    }
}

fn code_name(code: &OciErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{code:?}"))
}

/// A reqwest error with its causes ("connection refused" is usually in the source chain).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Registry error bodies can be HTML pages; keep messages readable.
fn short(message: &str) -> String {
    let message = message.trim();
    match message.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &message[..i]),
        None => message.to_owned(),
    }
}

/// Runs requests with retries and exponential backoff, reporting each retry.
pub struct Retrier<'a> {
    pub policy: &'a RetryPolicy,
    pub cancel: &'a CancellationToken,
    pub emit: &'a Emit,
    pub image: &'a str,
    pub retries: &'a std::sync::atomic::AtomicUsize,
}

/// The result of one attempt of a [`Retrier::run_raw`] operation.
pub enum Attempt<T> {
    Done(T),
    /// Failed; `true` when trying again may help.
    Failed(ImageError, bool),
}

impl Retrier<'_> {
    /// Runs an oci-client call with retries; errors are classified by `client`.
    pub async fn run<T, F, Fut>(
        &self,
        client: &RegistryClient,
        what: &str,
        mut op: F,
    ) -> Result<T, ImageError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        self.run_raw(&client.name, what, |attempt| {
            let fut = op(attempt);
            async move {
                match fut.await {
                    Ok(value) => Attempt::Done(value),
                    Err(error) => {
                        let (error, retry) = client.classify(what, error);
                        Attempt::Failed(error, retry)
                    }
                }
            }
        })
        .await
    }

    /// Runs `op` until it succeeds, fails for good, the attempts run out or the save is
    /// cancelled. `op` gets the attempt number (0-based).
    pub async fn run_raw<T, F, Fut>(
        &self,
        registry: &str,
        what: &str,
        mut op: F,
    ) -> Result<T, ImageError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        let mut attempt = 0u32;
        loop {
            if self.cancel.is_cancelled() {
                return Err(ImageError::Cancelled);
            }
            let outcome = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(ImageError::Cancelled),
                outcome = op(attempt) => outcome,
            };
            match outcome {
                Attempt::Done(value) => return Ok(value),
                Attempt::Failed(error, retry) => {
                    self.backoff(registry, what, error, retry, &mut attempt)
                        .await?
                }
            }
        }
    }

    /// After a failed attempt: `Err` when it is final, otherwise reports the retry, waits
    /// and returns `Ok` with `attempt` advanced.
    pub async fn backoff(
        &self,
        registry: &str,
        what: &str,
        error: ImageError,
        retry: bool,
        attempt: &mut u32,
    ) -> Result<(), ImageError> {
        if !retry || *attempt + 1 >= self.policy.attempts || matches!(error, ImageError::Cancelled)
        {
            return Err(error);
        }
        let delay = self.policy.delay(*attempt);
        self.retries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        (self.emit)(SaveEvent::Retry {
            image: self.image.to_owned(),
            registry: registry.to_owned(),
            what: what.to_owned(),
            attempt: *attempt + 1,
            delay_ms: delay.as_millis() as u64,
            reason: error.to_string(),
        });
        tokio::select! {
            () = self.cancel.cancelled() => return Err(ImageError::Cancelled),
            () = tokio::time::sleep(delay) => {}
        }
        *attempt += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost:5000",
            "LOCALHOST",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1:5000",
            "registry.local",
            "localhost.example.com",
            "[::2]:80",
            "128.0.0.1",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        let d0 = policy.delay(0);
        let d3 = policy.delay(3);
        let d9 = policy.delay(9);
        assert!(
            d0 >= Duration::from_millis(75) && d0 <= Duration::from_millis(125),
            "{d0:?}"
        );
        assert!(d3 >= Duration::from_millis(600), "{d3:?}");
        assert!(d9 <= Duration::from_millis(1250), "{d9:?}");
    }
}
