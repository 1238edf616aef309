//! `docker://REGISTRY/REPO:TAG`: pushing one image of an OCI layout to a registry with the
//! registry save's client ([`crate::registry`]): the same credential lookup (`--authfile`,
//! auth.json, Docker config, credential helpers), plain HTTP for loopback registries, no TLS
//! verification (and plain HTTP when there is no TLS) for `--tls-verify=false` and insecure
//! registries, and the same retries.
//!
//! Blobs the registry already has are skipped; the others are streamed from disk. The manifest
//! bytes are pushed unchanged, so the pushed digest is the layout's.

use std::{
    path::Path,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use oci_client::{errors::OciDistributionError, RegistryOperation};
use tokio::io::AsyncReadExt as _;

use super::{
    oci_layout::{self, Blob},
    OutputError,
};
use crate::{
    context::reference::Reference,
    registry::{
        AuthSource, CancellationToken, ClientSettings, CredentialStore, ImageError, RegistryClient,
        Retrier, RetryPolicy, SaveEvent,
    },
};

/// Blobs uploaded at the same time.
const BLOB_CONCURRENCY: usize = 3;
/// Bytes per upload request (the registry client sends one PATCH per chunk).
const CHUNK_SIZE: usize = 8 << 20;

/// How to reach the destination registry.
#[derive(Debug, Clone)]
pub struct PushOptions {
    pub auth: AuthSource,
    /// `false` (`--tls-verify=false`): HTTPS without certificate checks, or plain HTTP when the
    /// registry has no TLS. Loopback registries always use plain HTTP.
    pub tls_verify: bool,
    /// `host:port` of registries treated as with `tls_verify: false`.
    pub insecure_registries: Vec<String>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            auth: AuthSource::Default,
            tls_verify: true,
            insecure_registries: Vec::new(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// What [`push`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// The normalised destination, `127.0.0.1:5000/demo/app:v1`.
    pub reference: String,
    pub manifest_digest: String,
    pub blobs_uploaded: usize,
    /// Blobs the registry already had.
    pub blobs_present: usize,
    pub bytes_uploaded: u64,
    pub retries: usize,
}

/// A parsed `docker://` destination.
struct Destination {
    /// As given, for messages.
    text: String,
    registry: String,
    repository: String,
    reference: oci_client::Reference,
    /// `registry/repository:tag`.
    normalised: String,
}

fn parse_destination(destination: &str) -> Result<Destination, OutputError> {
    let invalid = |message: String| OutputError::Destination {
        destination: destination.to_owned(),
        message,
    };
    let name = destination.strip_prefix("docker://").unwrap_or(destination);
    let parsed = Reference::parse_normalized(name).map_err(|e| invalid(e.to_string()))?;
    if parsed.digest().is_some() {
        return Err(invalid(
            "a push destination needs a tag, not a digest".into(),
        ));
    }
    let normalised = format!("{}:{}", parsed.name(), parsed.tag().unwrap_or("latest"));
    let reference = normalised
        .parse::<oci_client::Reference>()
        .map_err(|e| invalid(e.to_string()))?;
    Ok(Destination {
        text: destination.to_owned(),
        registry: parsed.domain().to_owned(),
        repository: parsed.path().to_owned(),
        reference,
        normalised,
    })
}

/// Pushes the image tagged `tag` in the OCI layout `layout` (the only image when `tag` is
/// `None`) to `destination` (`docker://REGISTRY/REPO:TAG`; the `docker://` prefix is optional,
/// names are normalised like Docker's: `app` is `docker.io/library/app:latest`).
///
/// Needs a tokio runtime with I/O and time enabled. Errors name the destination and never
/// contain passwords or tokens.
pub async fn push(
    layout: &Path,
    tag: Option<&str>,
    destination: &str,
    options: &PushOptions,
) -> Result<PushReport, OutputError> {
    // reqwest is built without a default crypto provider (no aws-lc); ring it is.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let target = parse_destination(destination)?;
    let image = oci_layout::read_image(layout, tag)?;
    if options.retry.attempts == 0 {
        return Err(OutputError::Destination {
            destination: target.text,
            message: "retry attempts must be at least 1".into(),
        });
    }
    let client = connect(&target, options).await?;
    let pushing = |error: ImageError| OutputError::from_push(&target.text, error);

    let cancel = CancellationToken::new();
    let retries = AtomicUsize::new(0);
    let retry = Retrier {
        policy: &options.retry,
        cancel: &cancel,
        emit: &|_: SaveEvent| {},
        image: &target.normalised,
        retries: &retries,
    };
    if client.credential_description.is_some() {
        // One token (or basic check) up front: rejected credentials are reported as such
        // instead of as the failure of whichever upload runs first.
        retry
            .run(&client, "a push token", |_| async {
                client
                    .client
                    .auth(&target.reference, &client.auth, RegistryOperation::Push)
                    .await
                    .map(|_| ())
            })
            .await
            .map_err(pushing)?;
    }

    let uploaded = AtomicUsize::new(0);
    let bytes_uploaded = AtomicU64::new(0);
    futures_util::stream::iter(&image.blobs)
        .map(|blob| {
            let (client, target, retry) = (&client, &target, &retry);
            let (uploaded, bytes_uploaded) = (&uploaded, &bytes_uploaded);
            async move {
                if upload_blob(client, &target.reference, retry, blob).await? {
                    uploaded.fetch_add(1, Ordering::Relaxed);
                    bytes_uploaded.fetch_add(blob.size, Ordering::Relaxed);
                }
                Ok::<(), ImageError>(())
            }
        })
        .buffer_unordered(BLOB_CONCURRENCY)
        .try_collect::<()>()
        .await
        .map_err(pushing)?;

    let content_type: http::HeaderValue =
        image
            .manifest_media_type
            .parse()
            .map_err(|_| OutputError::Layout {
                path: layout.to_owned(),
                message: format!(
                    "invalid manifest media type `{}`",
                    image.manifest_media_type
                ),
            })?;
    let manifest = Bytes::from(image.manifest);
    retry
        .run(&client, "the manifest", |_| {
            client.client.push_manifest_raw(
                &target.reference,
                manifest.clone(),
                content_type.clone(),
            )
        })
        .await
        .map_err(pushing)?;

    let uploaded = uploaded.into_inner();
    Ok(PushReport {
        reference: target.normalised,
        manifest_digest: image.manifest_digest.to_string(),
        blobs_uploaded: uploaded,
        blobs_present: image.blobs.len() - uploaded,
        bytes_uploaded: bytes_uploaded.into_inner(),
        retries: retries.into_inner(),
    })
}

async fn connect(
    target: &Destination,
    options: &PushOptions,
) -> Result<RegistryClient, OutputError> {
    let auth = options.auth.clone();
    let (registry, repository) = (target.registry.clone(), target.repository.clone());
    // Loading may run credential helpers (programs); keep them off the async workers.
    let (credential, searched) = tokio::task::spawn_blocking(move || {
        let store = CredentialStore::load(&auth).map_err(|e| e.to_string())?;
        let searched: Vec<String> = store
            .searched()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        store
            .lookup(&registry, &repository)
            .map(|credential| (credential, searched))
    })
    .await
    .unwrap_or_else(|e| Err(format!("credential lookup failed: {e}")))
    .map_err(|message| {
        OutputError::from_push(
            &target.text,
            ImageError::Credentials {
                registry: target.registry.clone(),
                message,
            },
        )
    })?;
    let insecure = !options.tls_verify
        || options
            .insecure_registries
            .iter()
            .any(|r| r == &target.registry || r == target.reference.resolve_registry());
    let settings = ClientSettings {
        insecure,
        connect_timeout: options.connect_timeout,
        read_timeout: options.read_timeout,
    };
    Ok(RegistryClient::connect(
        &target.registry,
        &target.reference,
        credential,
        searched,
        &settings,
    )
    .await)
}

/// Uploads `blob` unless the registry has it; `true` when it was uploaded.
async fn upload_blob(
    client: &RegistryClient,
    reference: &oci_client::Reference,
    retry: &Retrier<'_>,
    blob: &Blob,
) -> Result<bool, ImageError> {
    let digest = blob.digest.as_str();
    let what = format!("blob {digest}");
    let present = retry
        .run(client, &what, |_| async {
            client
                .client
                .blob_exists(reference, digest)
                .await
                .map_err(status_as_server_error)
        })
        .await?;
    if present {
        return Ok(false);
    }
    retry
        .run(client, &what, |_| async {
            let file = tokio::fs::File::open(&blob.path).await?;
            client
                .client
                .push_blob_stream(reference, file_chunks(file), digest, Some(blob.size))
                .await
        })
        .await?;
    Ok(true)
}

/// `blob_exists` reports an HTTP error status as a bare request error; as a server error the
/// registry client explains it (a 401 names the credentials that were rejected).
fn status_as_server_error(error: OciDistributionError) -> OciDistributionError {
    match &error {
        OciDistributionError::RequestError(request) => match request.status() {
            Some(status) => OciDistributionError::ServerError {
                code: status.as_u16(),
                url: request.url().map(ToString::to_string).unwrap_or_default(),
                message: status.canonical_reason().unwrap_or_default().to_owned(),
            },
            None => error,
        },
        _ => error,
    }
}

/// The file as a stream of [`CHUNK_SIZE`] pieces (the last one shorter).
fn file_chunks(
    file: tokio::fs::File,
) -> impl Stream<Item = Result<Bytes, OciDistributionError>> + Send + 'static {
    futures_util::stream::try_unfold(file, |mut file| async move {
        let mut chunk = vec![0u8; CHUNK_SIZE];
        let mut filled = 0;
        while filled < CHUNK_SIZE {
            match file.read(&mut chunk[filled..]).await? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(None);
        }
        chunk.truncate(filled);
        Ok(Some((Bytes::from(chunk), file)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_normalised() {
        let d = parse_destination("docker://127.0.0.1:5000/demo/app:v1").unwrap();
        assert_eq!(
            (
                d.registry.as_str(),
                d.repository.as_str(),
                d.normalised.as_str()
            ),
            ("127.0.0.1:5000", "demo/app", "127.0.0.1:5000/demo/app:v1")
        );
        let d = parse_destination("app").unwrap();
        assert_eq!(d.normalised, "docker.io/library/app:latest");
        assert_eq!(d.repository, "library/app");
    }

    #[test]
    fn bad_destinations_are_refused() {
        for (destination, expected) in [
            ("docker://Upper/x:v1", "Upper"),
            ("docker://r.io/app@sha256:0123456789012345678901234567890123456789012345678901234567890123", "needs a tag"),
            ("docker://", "docker://"),
        ] {
            let error = parse_destination(destination).err().expect(destination);
            let message = error.to_string();
            assert!(message.contains(expected), "{destination}: {message}");
        }
    }
}
