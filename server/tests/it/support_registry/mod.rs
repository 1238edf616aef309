//! Test support for the registry save tests: real `docker-registry` processes on random
//! loopback ports, fixture images written as OCI layouts and pushed with `skopeo`, and a small
//! HTTP proxy that counts requests and injects faults (status codes, truncation, corruption,
//! stalls, latency). No mocks: every byte a save reads comes from distribution itself.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt as _, Full, StreamBody};
use hyper::{body::Frame, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const INSTALL_HINT: &str =
    "run `bash scripts/start-registry.sh --install` (installs docker-registry, skopeo and apache2-utils with apt-get)";

/// Panics with a clear message when a tool the tests need is missing.
pub fn require_tools(tools: &[&str]) {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| {
            !std::env::var_os("PATH")
                .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
                .unwrap_or(false)
        })
        .collect();
    assert!(missing.is_empty(), "registry tests need {}: {INSTALL_HINT}", missing.join(", "));
}

pub fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `docker-registry` (distribution 2.8) process serving a storage directory.
pub struct Registry {
    pub addr: SocketAddr,
    child: Child,
    _config_dir: tempfile::TempDir,
}

impl Registry {
    /// Serves `storage` (the `rootdirectory`, i.e. a context's `registry/`), optionally with
    /// htpasswd authentication.
    pub fn start(storage: &Path, htpasswd: Option<&Path>) -> Self {
        let auth = htpasswd
            .map(|path| format!("auth:\n  htpasswd:\n    realm: kubefile-ls-test\n    path: {}\n", path.display()))
            .unwrap_or_default();
        Self::start_with_auth(storage, &auth)
    }

    /// Serves `storage` with bearer-token authentication by `tokens`.
    pub fn start_with_tokens(storage: &Path, tokens: &TokenServer) -> Self {
        let auth = format!(
            "auth:\n  token:\n    realm: http://{}/token\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            tokens.addr,
            tokens.cert_pem.display()
        );
        Self::start_with_auth(storage, &auth)
    }

    fn start_with_auth(storage: &Path, auth: &str) -> Self {
        require_tools(&["docker-registry"]);
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let config_dir = tempfile::tempdir().unwrap();
            let config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\nhealth:\n  storagedriver:\n    enabled: false\n{auth}",
                storage.display()
            );
            let config_path = config_dir.path().join("config.yml");
            std::fs::write(&config_path, config).unwrap();
            let log = std::fs::File::create(config_dir.path().join("registry.log")).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start docker-registry ({e}): {INSTALL_HINT}"));
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!(
                        "docker-registry exited with {status}: {}",
                        std::fs::read_to_string(config_dir.path().join("registry.log")).unwrap_or_default()
                    );
                    break;
                }
                if http_status(addr, "/v2/").is_some_and(|s| s == 200 || s == 401) {
                    return Self { addr, child, _config_dir: config_dir };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start: {last_error}");
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.0 GET; returns the status code.
pub fn http_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    let mut buffer = [0u8; 256];
    let n = stream.read(&mut buffer).ok()?;
    response.push_str(&String::from_utf8_lossy(&buffer[..n]));
    response.split_whitespace().nth(1)?.parse().ok()
}

/// An htpasswd file with one bcrypt user (apache2-utils `htpasswd -Bbn`).
pub fn htpasswd_file(dir: &Path, user: &str, password: &str) -> PathBuf {
    require_tools(&["htpasswd"]);
    let output = Command::new("htpasswd").args(["-Bbn", user, password]).output().unwrap();
    assert!(output.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&output.stderr));
    let path = dir.join("htpasswd");
    std::fs::write(&path, output.stdout).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Fixture images

/// A gzip tar layer holding one file of pseudo-random bytes (stored, not compressed: the
/// content is incompressible anyway, and this keeps debug builds fast).
#[derive(Clone)]
pub struct Layer {
    pub gz: Vec<u8>,
    pub digest: String,
    pub diff_id: String,
}

impl Layer {
    pub fn new(name: &str, size: usize) -> Self {
        let content = pseudo_random(name, size);
        let tar = tar_with_file(name, &content);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        encoder.write_all(&tar).unwrap();
        let gz = encoder.finish().unwrap();
        Self { digest: sha256(&gz), diff_id: sha256(&tar), gz }
    }
}

/// Deterministic incompressible bytes (xorshift; cheap even in debug builds).
fn pseudo_random(seed: &str, size: usize) -> Vec<u8> {
    let mut state =
        Sha256::digest(seed.as_bytes()).iter().fold(0x9e37_79b9_7f4a_7c15u64, |a, &b| a.rotate_left(8) ^ u64::from(b))
            | 1;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(size);
    out
}

fn tar_with_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[148..156].copy_from_slice(b"        ");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(content);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

/// Writes an OCI image layout (`oci:<dir>:<name>` for skopeo).
pub struct OciLayout {
    pub dir: PathBuf,
    refs: Vec<Value>,
}

impl OciLayout {
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        Self { dir: dir.to_owned(), refs: Vec::new() }
    }

    pub fn blob(&self, bytes: &[u8]) -> (String, usize) {
        let digest = sha256(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(&digest[7..]), bytes).unwrap();
        (digest, bytes.len())
    }

    /// A single-platform image; returns its manifest descriptor.
    pub fn image(&self, arch: &str, variant: Option<&str>, layers: &[&Layer]) -> Value {
        let mut config = json!({
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        });
        if let Some(variant) = variant {
            config["variant"] = json!(variant);
        }
        let config_bytes = serde_json::to_vec(&config).unwrap();
        let (config_digest, config_size) = self.blob(&config_bytes);
        let layer_descriptors: Vec<Value> = layers
            .iter()
            .map(|layer| {
                let (digest, size) = self.blob(&layer.gz);
                json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
            })
            .collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": layer_descriptors,
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let (digest, size) = self.blob(&bytes);
        let mut platform = json!({"architecture": arch, "os": "linux"});
        if let Some(variant) = variant {
            platform["variant"] = json!(variant);
        }
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size, "platform": platform})
    }

    pub fn index(&self, manifests: &[Value]) -> Value {
        let index =
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let bytes = serde_json::to_vec(&index).unwrap();
        let (digest, size) = self.blob(&bytes);
        json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size})
    }

    /// Names a descriptor `name` in `index.json`.
    pub fn tag(&mut self, name: &str, descriptor: &Value) {
        let mut entry = descriptor.clone();
        if let Some(object) = entry.as_object_mut() {
            object.remove("platform");
        }
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        self.refs.push(entry);
    }

    pub fn finish(&self) {
        std::fs::write(self.dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let index = json!({"schemaVersion": 2, "manifests": self.refs});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }
}

/// `skopeo copy` with TLS checks off on both sides.
pub fn skopeo_copy(source: &str, destination: &str, extra: &[&str]) {
    require_tools(&["skopeo"]);
    let output = Command::new("skopeo")
        .args(["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .args(extra)
        .arg(source)
        .arg(destination)
        .output()
        .unwrap_or_else(|e| panic!("cannot run skopeo ({e}): {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "skopeo copy {source} {destination} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The digest of the manifest a registry serves for `image` (`skopeo inspect --raw`).
pub fn skopeo_manifest_digest(image: &str) -> String {
    let output = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "skopeo inspect {image} failed: {}", String::from_utf8_lossy(&output.stderr));
    sha256(&output.stdout)
}

/// The manifest list's digest of a pushed layout entry, or the manifest's.
pub fn descriptor_digest(descriptor: &Value) -> String {
    descriptor["digest"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// Fault-injecting proxy

/// What the proxy does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Answer with this status and an empty body, without asking the registry.
    Status(u16),
    /// Send only the first n bytes of the body, with a Content-Length saying n (so the response
    /// looks complete), ignoring any Range header.
    Truncate(usize),
    /// Flip one byte in the middle of the body.
    Corrupt,
    /// Send the first n bytes, then hang for the duration (the response never completes in time).
    StallAfter(usize, Duration),
    /// Wait before forwarding.
    Delay(Duration),
}

#[derive(Clone, Debug)]
pub struct RequestInfo {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    /// How many requests with the same method and path came before this one.
    pub seq: usize,
}

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub method: String,
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
    pub fault: Fault,
}

pub type Rule = Arc<dyn Fn(&RequestInfo) -> Fault + Send + Sync>;

struct ProxyState {
    upstream: SocketAddr,
    client: reqwest::Client,
    rule: Mutex<Rule>,
    latency: Duration,
    log: Mutex<Vec<LogEntry>>,
    seq: Mutex<HashMap<(String, String), usize>>,
    inflight_manifests: AtomicUsize,
    max_inflight_manifests: AtomicUsize,
}

/// An HTTP proxy in front of a registry, on its own thread and runtime.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
    _server: HttpServer,
}

impl Proxy {
    pub fn start(upstream: SocketAddr, latency: Duration, rule: Rule) -> Self {
        // reqwest is built without a default TLS provider in this crate (no aws-lc).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let state = Arc::new(ProxyState {
            upstream,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
            rule: Mutex::new(rule),
            latency,
            log: Mutex::default(),
            seq: Mutex::default(),
            inflight_manifests: AtomicUsize::new(0),
            max_inflight_manifests: AtomicUsize::new(0),
        });
        let handler_state = state.clone();
        let server = HttpServer::start(move |request| handle(handler_state.clone(), request));
        Self { addr: server.addr, state, _server: server }
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn set_rule(&self, rule: Rule) {
        *self.state.rule.lock().unwrap() = rule;
    }

    pub fn log(&self) -> Vec<LogEntry> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// GET requests for blobs, by digest.
    pub fn blob_gets(&self) -> HashMap<String, Vec<LogEntry>> {
        let mut out: HashMap<String, Vec<LogEntry>> = HashMap::new();
        for entry in self.log() {
            if entry.method == "GET" {
                if let Some((_, digest)) = entry.path.split_once("/blobs/") {
                    out.entry(digest.to_owned()).or_default().push(entry.clone());
                }
            }
        }
        out
    }

    pub fn reset_max_inflight(&self) {
        self.state.max_inflight_manifests.store(0, Ordering::SeqCst);
    }

    pub fn max_inflight_manifests(&self) -> usize {
        self.state.max_inflight_manifests.load(Ordering::SeqCst)
    }
}

/// An HTTP/1 server on its own thread and runtime (the fake services here answer while the test
/// thread blocks on the code under test); stops when dropped, without waiting for open
/// connections.
struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    fn start<F, Fut>(handle: F) -> HttpServer
    where
        F: Fn(Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Result<Response<ProxyBody>, std::io::Error>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stop => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let service = service_fn(handle.clone());
                            tokio::spawn(async move {
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
            runtime.shutdown_background();
        });
        HttpServer { addr, shutdown: Some(shutdown), thread: Some(thread) }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type ProxyBody = UnsyncBoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> ProxyBody {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

async fn handle(
    state: Arc<ProxyState>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<ProxyBody>, std::io::Error> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let range = request.headers().get("range").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let seq = {
        let mut seq = state.seq.lock().unwrap();
        let n = seq.entry((method.clone(), path.clone())).or_default();
        *n += 1;
        *n - 1
    };
    let info = RequestInfo { method: method.clone(), path: path.clone(), range: range.clone(), seq };
    let fault = (state.rule.lock().unwrap().clone())(&info);
    let is_manifest = path.contains("/manifests/");
    if is_manifest {
        let now = state.inflight_manifests.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_inflight_manifests.fetch_max(now, Ordering::SeqCst);
    }
    let response = forward(&state, request, &fault).await;
    if is_manifest {
        state.inflight_manifests.fetch_sub(1, Ordering::SeqCst);
    }
    let status = response.as_ref().map_or(502, |r| r.status().as_u16());
    state.log.lock().unwrap().push(LogEntry { method, path, range, status, fault });
    response
}

async fn forward(
    state: &ProxyState,
    request: Request<hyper::body::Incoming>,
    fault: &Fault,
) -> Result<Response<ProxyBody>, std::io::Error> {
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    if let Fault::Status(code) = fault {
        return Ok(Response::builder().status(*code).body(full(Bytes::new())).unwrap());
    }
    if let Fault::Delay(delay) = fault {
        tokio::time::sleep(*delay).await;
    }
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let url = format!("http://{}{}", state.upstream, parts.uri.path_and_query().map_or("/", |p| p.as_str()));
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let mut upstream = state.client.request(method, url);
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if matches!(name, "host" | "connection" | "content-length" | "transfer-encoding") {
            continue;
        }
        if name == "range" && matches!(fault, Fault::Truncate(_)) {
            continue;
        }
        upstream = upstream.header(name, value.as_bytes());
    }
    if !body.is_empty() {
        upstream = upstream.body(body);
    }
    let response = match upstream.send().await {
        Ok(response) => response,
        Err(error) => {
            return Ok(Response::builder().status(502).body(full(format!("proxy: {error}"))).unwrap());
        }
    };
    let mut builder = Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        let name = name.as_str();
        if matches!(name, "connection" | "transfer-encoding" | "keep-alive") {
            continue;
        }
        if name == "content-length" && matches!(fault, Fault::Truncate(_)) {
            continue;
        }
        builder = builder.header(name, value.as_bytes());
    }
    let body = match fault {
        Fault::Truncate(n) => {
            let bytes = response.bytes().await.unwrap_or_default();
            let cut = bytes.slice(..(*n).min(bytes.len()));
            builder = builder.header("content-length", cut.len());
            full(cut)
        }
        Fault::Corrupt => {
            let mut bytes = response.bytes().await.unwrap_or_default().to_vec();
            if !bytes.is_empty() {
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0xff;
            }
            full(bytes)
        }
        Fault::StallAfter(n, stall) => {
            let bytes = response.bytes().await.unwrap_or_default();
            let head = bytes.slice(..(*n).min(bytes.len()));
            let tail = bytes.slice((*n).min(bytes.len())..);
            let stall = *stall;
            let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Frame::data(head))]).chain(
                futures_util::stream::once(async move {
                    tokio::time::sleep(stall).await;
                    Ok(Frame::data(tail))
                }),
            );
            StreamBody::new(stream).boxed_unsync()
        }
        Fault::Pass | Fault::Delay(_) | Fault::Status(_) => {
            let stream = response.bytes_stream().map(|chunk| chunk.map(Frame::data).map_err(std::io::Error::other));
            StreamBody::new(stream).boxed_unsync()
        }
    };
    Ok(builder.body(body).unwrap())
}

pub fn pass_all() -> Rule {
    Arc::new(|_| Fault::Pass)
}

// ---------------------------------------------------------------------------------------------
// Bearer-token server (distribution's `auth: token` scheme)

pub const TOKEN_SERVICE: &str = "kubefile-ls-test-registry";
pub const TOKEN_ISSUER: &str = "kubefile-ls-test-issuer";

/// A token service like Docker Hub's: checks Basic credentials (or grants anonymous pulls when
/// allowed) and answers with an ES256 JWT that carries its certificate in `x5c`, which
/// docker-registry verifies against `rootcertbundle`.
pub struct TokenServer {
    pub addr: SocketAddr,
    pub cert_pem: PathBuf,
    /// Tokens handed out, and requests refused.
    pub issued: Arc<AtomicUsize>,
    pub refused: Arc<AtomicUsize>,
    pub allow_anonymous_pull: Arc<std::sync::atomic::AtomicBool>,
    _server: HttpServer,
}

struct TokenState {
    key: ring::signature::EcdsaKeyPair,
    cert_der: Vec<u8>,
    user: String,
    password: String,
    issued: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    allow_anonymous_pull: Arc<std::sync::atomic::AtomicBool>,
}

fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenServer {
    pub fn start(dir: &Path, user: &str, password: &str) -> Self {
        require_tools(&["openssl"]);
        let key_pem = dir.join("token-key.pem");
        let cert_pem = dir.join("token-cert.pem");
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=kubefile-ls-test-token"])
            .arg("-keyout")
            .arg(&key_pem)
            .arg("-out")
            .arg(&cert_pem)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl could not make the token certificate");
        let key_der = pem_body(&std::fs::read_to_string(&key_pem).unwrap());
        let cert_der = pem_body(&std::fs::read_to_string(&cert_pem).unwrap());
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_der,
            &rng,
        )
        .expect("PKCS#8 P-256 key");
        let issued = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let allow_anonymous_pull = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let state = Arc::new(TokenState {
            key,
            cert_der,
            user: user.to_owned(),
            password: password.to_owned(),
            issued: issued.clone(),
            refused: refused.clone(),
            allow_anonymous_pull: allow_anonymous_pull.clone(),
        });
        let server = HttpServer::start(move |request| {
            let response = token_response(&state, &request);
            async move { Ok::<_, std::io::Error>(response) }
        });
        Self { addr: server.addr, cert_pem, issued, refused, allow_anonymous_pull, _server: server }
    }
}


fn token_response<B>(state: &TokenState, request: &Request<B>) -> Response<ProxyBody> {
    use base64::Engine as _;
    let query = request.uri().query().unwrap_or("");
    let mut scopes = Vec::new();
    for pair in query.split('&') {
        if let Some(value) = pair.strip_prefix("scope=") {
            scopes.push(percent_decode(value));
        }
    }
    let credentials = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let (subject, may_push) = match credentials {
        Some(c) if c == format!("{}:{}", state.user, state.password) => (state.user.clone(), true),
        None if state.allow_anonymous_pull.load(Ordering::SeqCst) => (String::new(), false),
        _ => {
            state.refused.fetch_add(1, Ordering::SeqCst);
            return Response::builder()
                .status(401)
                .header("content-type", "application/json")
                .body(full(r#"{"details":"incorrect username or password"}"#))
                .unwrap();
        }
    };
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|scope| {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            let actions: Vec<&str> =
                actions.split(',').filter(|a| *a == "pull" || (may_push && *a == "push")).collect();
            Some(json!({"type": kind, "name": name, "actions": actions}))
        })
        .collect();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = json!({"alg": "ES256", "typ": "JWT", "x5c": [base64::engine::general_purpose::STANDARD.encode(&state.cert_der)]});
    let claims = json!({
        "iss": TOKEN_ISSUER, "sub": subject, "aud": TOKEN_SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", state.issued.load(Ordering::SeqCst)),
        "access": access,
    });
    let signing_input =
        format!("{}.{}", b64url(&serde_json::to_vec(&header).unwrap()), b64url(&serde_json::to_vec(&claims).unwrap()));
    let signature = state.key.sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes()).unwrap();
    let token = format!("{signing_input}.{}", b64url(signature.as_ref()));
    state.issued.fetch_add(1, Ordering::SeqCst);
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(full(serde_json::to_vec(&json!({"token": token, "access_token": token, "expires_in": 300})).unwrap()))
        .unwrap()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
