//! The stdio transport: LSP's `Content-Length` framing, every message dispatched in arrival order,
//! and the answers to the requests whose results can be megabytes.
//!
//! It replaces tower-lsp-server's `Server` for two reasons:
//! - That reader stops for good at the first body it cannot decode, which ends the server. This
//!   one answers a body that is not JSON with a parse error and a JSON value that is no message
//!   with an invalid-request error, skips a header without a usable `Content-Length` to the next
//!   one, and reads on.
//! - tower-lsp-server turns every result into a `serde_json::Value` tree, serialises the tree and
//!   drops it. For a whole-document answer (2 MB of document symbols for a 10,000-line file) that
//!   costs twenty times the analysis, in hundreds of thousands of small allocations. The
//!   [`direct_handler`] methods are answered here instead, from the same feature functions,
//!   serialised straight from their LSP types. So is `textDocument/publishDiagnostics`, sent after
//!   every edit: the session writes it with [`encode_publish_diagnostics`] and queues it on the
//!   writer's channel ([`Outgoing`]) instead of sending it through `Client`.
//!
//! Every other message goes to the `LspService` (routing, `initialize`/`shutdown`/`exit`, custom
//! methods); the `ClientSocket` carries the server's requests to the client and the client's
//! answers back. The semantics are tower-lsp-server's:
//! - A handler is first polled in arrival order, as it is dispatched: the text-sync notifications,
//!   which do all their work before their first `.await`, apply edits in the order they were sent,
//!   and a request's snapshot sees every edit sent before it. Whatever remains of a handler then
//!   runs as a task of its own, concurrently with the others (without tower-lsp-server's limit of
//!   four in flight, so a long-polling `workspace/diagnostic` holds up no one).
//! - `$/cancelRequest` answers a request still in flight with `RequestCancelled`.
//! - Requests before `initialize` succeeded are refused with `ServerNotInitialized`, requests
//!   after `shutdown` with `InvalidRequest`.
//! - `exit` stops reading. So does the end of stdin, once the requests in flight are answered
//!   (for at most [`END_OF_INPUT_GRACE`]).
//!
//! Threads: stdin is read, framed and parsed on a thread of its own and stdout written on
//! another, with blocking I/O: no message waits for the runtime's blocking pool, and a client that
//! is slow to read blocks only the writer.

use std::{
    collections::HashMap,
    fs::File,
    future::Future,
    io::{self, BufRead, BufWriter, Read, Write},
    os::fd::AsFd,
    sync::{
        atomic::{AtomicU64, AtomicU8, Ordering},
        mpsc as std_mpsc, Arc, Mutex,
    },
    thread,
    time::Duration,
};

use futures_util::{
    future::{self, AbortHandle, BoxFuture},
    FutureExt as _, SinkExt as _, StreamExt as _,
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};
use tower_lsp_server::{
    jsonrpc::{self, Error, ErrorCode, Id, Request, Response},
    ls_types as lsp, ClientSocket, ExitedError,
};
use tower_service::Service;

use super::{catch_panic, features, json, session::Session};

/// How long the end of stdin waits for the requests in flight to be answered: a client that
/// closed its end after its last request may still be reading.
const END_OF_INPUT_GRACE: Duration = Duration::from_secs(2);

/// Messages read ahead of the dispatch loop: past that, the reader stops reading and the client's
/// writes block, as with a server that reads no faster than it serves.
const INCOMING_QUEUE: usize = 64;
/// Small messages are gathered up to this size into one write; bigger bodies are written as they
/// are.
const OUTPUT_BUFFER: usize = 64 * 1024;

/// A header line is kept up to this length; of a longer one (the end of a body whose
/// `Content-Length` was too short, running into the next header) only the last
/// [`KEPT_OF_LONG_LINE`] bytes, where a `Content-Length` would be.
const MAX_HEADER_LINE: usize = 4096;
const KEPT_OF_LONG_LINE: usize = 256;

/// The reader and writer threads, and the channels to them.
pub struct Stdio {
    incoming: mpsc::Receiver<Incoming>,
    outgoing: Outgoing,
    /// Closed when the writer has written everything before [`Frame::End`] (or failed).
    written: std_mpsc::Receiver<()>,
}

impl Stdio {
    pub fn start() -> io::Result<Stdio> {
        let (to_dispatch, incoming) = mpsc::channel(INCOMING_QUEUE);
        thread::Builder::new()
            .name("kubefile-ls-stdin".to_owned())
            .spawn(move || read_messages(io::stdin().lock(), &to_dispatch))?;
        // stdout through its own descriptor: `Stdout` is line-buffered, and scans every body (2 MB
        // of document symbols) for a newline that JSON bodies do not have.
        let output = BufWriter::with_capacity(OUTPUT_BUFFER, File::from(io::stdout().as_fd().try_clone_to_owned()?));
        let (outgoing, frames) = std_mpsc::channel();
        let (done, written) = std_mpsc::channel::<()>();
        thread::Builder::new().name("kubefile-ls-stdout".to_owned()).spawn(move || {
            write_messages(output, &frames);
            drop(done);
        })?;
        Ok(Stdio { incoming, outgoing: Outgoing(outgoing), written })
    }

    /// Waits until what was sent so far is written, for at most `limit`: a client that stopped
    /// reading must not keep the process alive.
    pub fn finish(self, limit: Duration) {
        let _ = self.outgoing.0.send(Frame::End);
        let _ = self.written.recv_timeout(limit);
    }
}

/// Serves LSP over `stdio` until `exit`, or the end of stdin. `service` is the `LspService` that
/// `socket` belongs to, and `session` its server's.
pub async fn serve<S>(stdio: &mut Stdio, service: S, socket: ClientSocket, session: Arc<Session>)
where
    S: Service<Request, Response = Option<Response>, Error = ExitedError>,
    S::Future: Send + 'static,
{
    // Before any message is dispatched, so that no handler can publish before it is set.
    session.set_outgoing(stdio.outgoing.clone());
    let (mut server_requests, mut client_responses) = socket.split();
    let outgoing = stdio.outgoing.clone();
    tokio::spawn(async move {
        while let Some(request) = server_requests.next().await {
            outgoing.send(encode(&request));
        }
    });
    let mut dispatcher = Dispatcher {
        service,
        session,
        phase: Arc::new(Lifecycle::default()),
        in_flight: Arc::new(InFlight::default()),
        outgoing: stdio.outgoing.clone(),
    };
    while let Some(message) = stdio.incoming.recv().await {
        match message {
            Incoming::Request(request) => {
                if dispatcher.request(request).await == Flow::Exit {
                    return;
                }
            }
            Incoming::Response(response) => {
                if client_responses.send(response).await.is_err() {
                    tracing::warn!("an answer from the client after exit was dropped");
                }
            }
            Incoming::Unreadable(answer) => dispatcher.outgoing.send(encode(&answer)),
        }
    }
    tracing::info!("stdin closed");
    dispatcher.in_flight.wait_until_empty(END_OF_INPUT_GRACE).await;
}

/// A message from the client, as the reader thread decoded it.
enum Incoming {
    /// A request or a notification.
    Request(Request),
    /// The client's answer to one of our requests.
    Response(Response),
    /// The error to answer a message with that could not be read.
    Unreadable(Response),
}

#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Exit,
}

/// Where the server is in the LSP life cycle, as the transport needs it for the requests it
/// answers itself (the `LspService` keeps its own for the rest, from the same messages).
#[derive(Default)]
struct Lifecycle(AtomicU8);

const UNINITIALIZED: u8 = 0;
const INITIALIZED: u8 = 1;
const SHUT_DOWN: u8 = 2;

impl Lifecycle {
    fn get(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self, phase: u8) {
        self.0.store(phase, Ordering::SeqCst);
    }

    /// Why a request cannot be served now, if it cannot.
    fn refusal(&self) -> Option<Error> {
        match self.get() {
            INITIALIZED => None,
            UNINITIALIZED => Some(Error {
                code: ErrorCode::ServerError(-32002),
                message: "Server not initialized".into(),
                data: None,
            }),
            _ => Some(Error::invalid_request()),
        }
    }
}

/// The requests being handled, by id, so that `$/cancelRequest` can stop them.
#[derive(Default)]
struct InFlight {
    requests: Mutex<HashMap<Id, (u64, AbortHandle)>>,
    /// Tells [`InFlight::wait_until_empty`] that the last request was answered.
    emptied: Notify,
    /// Tells a request from an earlier one with the same id.
    next_key: AtomicU64,
}

impl InFlight {
    /// `answer` made cancellable under `id`. A request with the id of one still in flight is
    /// refused: an id must name one request.
    fn track(self: &Arc<Self>, id: Id, answer: Answer) -> Answer {
        let (answer, handle) = future::abortable(answer);
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        {
            let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            if requests.contains_key(&id) {
                let error = Error {
                    code: ErrorCode::InvalidRequest,
                    message: format!("request id {id} is already used by a request still being answered").into(),
                    data: None,
                };
                return future::ready(Some(encode_error(id, error))).boxed();
            }
            requests.insert(id.clone(), (key, handle));
        }
        let in_flight = self.clone();
        async move {
            let answer = answer.await;
            in_flight.finished(&id, key);
            answer.unwrap_or_else(|_aborted| Some(encode_error(id, Error::request_cancelled())))
        }
        .boxed()
    }

    fn finished(&self, id: &Id, key: u64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if requests.get(id).is_some_and(|(tracked, _)| *tracked == key) {
            requests.remove(id);
        }
        if requests.is_empty() {
            self.emptied.notify_one();
        }
    }

    fn cancel(&self, id: &Id) {
        let cancelled = self.requests.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        match cancelled {
            Some((_, handle)) => handle.abort(),
            None => tracing::debug!("cancelling {id}, which is not in flight"),
        }
    }

    fn is_empty(&self) -> bool {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    async fn wait_until_empty(&self, limit: Duration) {
        let drained = async {
            while !self.is_empty() {
                // `notify_one` keeps a permit when no one waits: an answer between the check and
                // this wait is not missed.
                self.emptied.notified().await;
            }
        };
        if tokio::time::timeout(limit, drained).await.is_err() {
            tracing::warn!("requests still in flight {limit:?} after stdin closed are dropped");
        }
    }
}

/// A serialised message body.
type Body = Vec<u8>;

/// The body to answer a message with; `None` for a notification.
type Answer = BoxFuture<'static, Option<Body>>;

struct Dispatcher<S> {
    service: S,
    session: Arc<Session>,
    phase: Arc<Lifecycle>,
    in_flight: Arc<InFlight>,
    outgoing: Outgoing,
}

impl<S> Dispatcher<S>
where
    S: Service<Request, Response = Option<Response>, Error = ExitedError>,
    S::Future: Send + 'static,
{
    async fn request(&mut self, request: Request) -> Flow {
        let method = request.method().to_owned();
        let id = request.id().cloned();
        match method.as_str() {
            "$/cancelRequest" => {
                match request.params().cloned().map(serde_json::from_value::<lsp::CancelParams>) {
                    Some(Ok(params)) => self.in_flight.cancel(&params.id.into()),
                    _ => tracing::warn!("$/cancelRequest without a request id"),
                }
                return Flow::Continue;
            }
            "shutdown" if self.phase.get() == INITIALIZED => self.phase.set(SHUT_DOWN),
            _ => {}
        }
        let answer = match (id.clone(), direct_handler(&method)) {
            (Some(id), Some(handler)) => self.answer_directly(method.clone(), id, handler, request.into_parts().2),
            _ => match self.answer_by_service(method.clone(), request).await {
                Some(answer) => answer,
                None => return Flow::Exit,
            },
        };
        let answer = match id {
            Some(id) => self.in_flight.track(id, answer),
            None => answer,
        };
        self.run(answer);
        if method == "exit" {
            Flow::Exit
        } else {
            Flow::Continue
        }
    }

    fn answer_directly(&self, method: String, id: Id, handler: DirectHandler, params: Option<Value>) -> Answer {
        if let Some(error) = self.phase.refusal() {
            return future::ready(Some(encode_error(id, error))).boxed();
        }
        let session = self.session.clone();
        let handler_id = id.clone();
        let answer = catch_panic::guard(method, move || handler(session, handler_id, params));
        answer.map(|answer| Some(answer.unwrap_or_else(|error| encode_error(id, error)))).boxed()
    }

    /// `None` once the service has exited.
    async fn answer_by_service(&mut self, method: String, request: Request) -> Option<Answer> {
        future::poll_fn(|cx| self.service.poll_ready(cx)).await.ok()?;
        let id = request.id().cloned();
        let initializes = method == "initialize" && self.phase.get() == UNINITIALIZED;
        let phase = self.phase.clone();
        let service = &mut self.service;
        let answer = catch_panic::guard(method, || service.call(request));
        Some(
            async move {
                let response = match answer.await {
                    Ok(Ok(response)) => response,
                    Ok(Err(ExitedError { .. })) => None,
                    Err(error) => id.map(|id| Response::from_error(id, error)),
                };
                if initializes && response.as_ref().is_some_and(Response::is_ok) {
                    phase.set(INITIALIZED);
                }
                response.map(|response| encode(&response))
            }
            .boxed(),
        )
    }

    /// Polls `answer` once, here, so that handlers start in arrival order; what is left of it runs
    /// as a task of its own.
    fn run(&self, mut answer: Answer) {
        match (&mut answer).now_or_never() {
            Some(body) => self.outgoing.send_answer(body),
            None => {
                let outgoing = self.outgoing.clone();
                // The task polls `answer` again right away, with its own waker.
                tokio::spawn(async move { outgoing.send_answer(answer.await) });
            }
        }
    }
}

// --- answered here ----------------------------------------------------------------------------

/// Answers a request from its `params`: the serialised response.
type DirectHandler = fn(Arc<Session>, Id, Option<Value>) -> BoxFuture<'static, Body>;

/// The handler of the requests answered here rather than by the `LspService`: those whose results
/// grow with the document, and can be megabytes. The routes are the same feature functions
/// `server.rs` has; only the serialisation differs. The features of routes marked `written` write
/// their result's JSON themselves (a [`ResultBody`]): the biggest answers, megabytes of symbols
/// or numbers, never exist as LSP values.
fn direct_handler(method: &str) -> Option<DirectHandler> {
    use lsp::request::*;
    macro_rules! routes {
        ($($request:ty => $feature:path $(, $written:ident)?;)*) => {
            $(
                if method == <$request>::METHOD {
                    return Some(|session, id, params| {
                        let handler = |params| async move { $feature(&session, params).await };
                        answer::<$request, _, _, _>(id, params, handler, routes!(@encoder $($written)?))
                    });
                }
            )*
        };
        (@encoder) => { encode_result };
        (@encoder written) => { encode_written };
    }
    routes! {
        // Completion and hover are asked for as the user types: a completion after `${` lists
        // every ARG in scope, hundreds on a big file.
        Completion => features::completion;
        HoverRequest => features::hover;
        DocumentSymbolRequest => features::document_symbol, written;
        FoldingRangeRequest => features::folding_range;
        Formatting => features::formatting;
        RangeFormatting => features::range_formatting;
        SemanticTokensFullRequest => features::semantic_tokens_full, written;
        SemanticTokensFullDeltaRequest => features::semantic_tokens_full_delta;
        SemanticTokensRangeRequest => features::semantic_tokens_range;
    }
    None
}

/// Parses the params of request `R` as tower-lsp-server does (`InvalidParams` when they do not
/// fit), runs `handler` and makes its result the response with `encode`. The result is
/// `R::Result`, or what the handler wrote of it itself (routes marked `written`: [`ResultBody`]).
fn answer<R, T, F, Fut>(id: Id, params: Option<Value>, handler: F, encode: fn(Id, T) -> Body) -> BoxFuture<'static, Body>
where
    R: lsp::request::Request,
    T: 'static,
    F: FnOnce(R::Params) -> Fut,
    Fut: Future<Output = jsonrpc::Result<T>> + Send + 'static,
{
    let params = match params {
        Some(params) => serde_json::from_value::<R::Params>(params).map_err(|e| Error::invalid_params(e.to_string())),
        None => Err(Error::invalid_params("Missing params field")),
    };
    let result = match params {
        Ok(params) => handler(params),
        Err(error) => return future::ready(encode_error(id, error)).boxed(),
    };
    async move {
        match result.await {
            Ok(result) => encode(id, result),
            Err(error) => encode_error(id, error),
        }
    }
    .boxed()
}

/// The response to a result the handler wrote itself, as `encode_result` writes it (`jsonrpc`,
/// `result`, `id`), around what it wrote.
fn encode_written(id: Id, result: Option<ResultBody>) -> Body {
    let Some(ResultBody(mut body)) = result else { return encode_result(id, None::<()>) };
    body.extend_from_slice(br#","id":"#);
    json::write_json(&mut body, &id);
    body.push(b'}');
    body
}

/// A successful response, serialised from the result's own type (not through a `Value`).
fn encode_result<T: Serialize>(id: Id, result: T) -> Body {
    let result = &result;
    #[derive(Serialize)]
    struct Success<'a, T> {
        jsonrpc: &'static str,
        result: &'a T,
        id: &'a Id,
    }
    serde_json::to_vec(&Success { jsonrpc: "2.0", result, id: &id }).unwrap_or_else(|error| {
        tracing::error!("cannot serialise the result of request {id}: {error}");
        let mut internal = Error::internal_error();
        internal.message = error.to_string().into();
        encode_error(id, internal)
    })
}

fn encode_error(id: Id, error: Error) -> Body {
    encode(&Response::from_error(id, error))
}

/// A response whose result the handler wrote itself, into the buffer the response is sent from
/// (a whole-document answer is megabytes: it is neither copied nor built as LSP values first).
pub struct ResultBody(Body);

impl ResultBody {
    const PREFIX: &[u8] = br#"{"jsonrpc":"2.0","result":"#;

    /// Room for a result of about `size` bytes; a big one reuses the [`SpareBody`].
    pub fn with_capacity(size: usize) -> ResultBody {
        let capacity = Self::PREFIX.len() + size + 32;
        let mut body = SpareBody::take(capacity).unwrap_or_else(|| Vec::with_capacity(capacity));
        body.extend_from_slice(Self::PREFIX);
        ResultBody(body)
    }

    /// Where to write the result's JSON (once).
    pub fn result(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

/// The buffer of the biggest message written since the last [`SpareBody::release`], emptied, for
/// the next big [`ResultBody`]. Freeing a megabytes-long answer after each request leaves a hole
/// in glibc's heap; once something small is placed in it, the next answer needs megabytes more
/// (the peak RSS over twelve outlines of a 10,000-line file jumped by 2 MiB in one run out of
/// four). One buffer kept instead also spares each answer the first touch of its pages.
pub struct SpareBody;

static SPARE_BODY: Mutex<Body> = Mutex::new(Vec::new());

impl SpareBody {
    /// Smaller buffers come and go without fragmenting the heap much; they are not kept.
    const MIN_CAPACITY: usize = 64 * 1024;

    /// The spare buffer when `capacity` is big and the spare has room for it.
    fn take(capacity: usize) -> Option<Body> {
        if capacity < Self::MIN_CAPACITY {
            return None;
        }
        let mut spare = SPARE_BODY.lock().unwrap_or_else(|e| e.into_inner());
        (spare.capacity() >= capacity).then(|| std::mem::take(&mut *spare))
    }

    /// Keeps a written body's buffer when it is bigger than the spare; frees the smaller one.
    fn keep(mut body: Body) {
        if body.capacity() < Self::MIN_CAPACITY {
            return;
        }
        body.clear();
        let mut spare = SPARE_BODY.lock().unwrap_or_else(|e| e.into_inner());
        if body.capacity() > spare.capacity() {
            std::mem::swap(&mut *spare, &mut body);
        }
        drop(spare);
    }

    /// Frees the spare buffer: a closed document's answers are no longer asked for.
    pub fn release() {
        let spare = std::mem::take(&mut *SPARE_BODY.lock().unwrap_or_else(|e| e.into_inner()));
        drop(spare);
    }
}

/// The `textDocument/publishDiagnostics` notification, written out by hand: it is sent after every
/// keystroke, with hundreds of diagnostics for a big file, and tower-lsp-server's `Client` builds
/// a `serde_json::Value` tree of it first, which costs ten times as much (1.2 ms against 0.1 ms
/// for the 357 diagnostics of a 10,000-line file; serde's derived serialisation of the types
/// straight to bytes takes 0.18 ms). Writes exactly what serde writes from the LSP types (a test
/// compares them): the JSON `Client` sent, with the keys in declaration order rather than the
/// `Value`'s sorted order.
pub fn encode_publish_diagnostics<'a>(
    uri: &lsp::Uri,
    diagnostics: impl IntoIterator<Item = &'a lsp::Diagnostic>,
    version: Option<i32>,
) -> Body {
    let diagnostics = diagnostics.into_iter();
    // Enough for this server's diagnostics (range, code, documentation link, source and message)
    // without regrowing: the message is the only part of any length.
    let mut out = Vec::with_capacity(128 + 320 * diagnostics.size_hint().0);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#);
    json::write_json(&mut out, uri);
    out.extend_from_slice(br#","diagnostics":["#);
    for (n, diagnostic) in diagnostics.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_diagnostic(&mut out, diagnostic);
    }
    out.push(b']');
    if let Some(version) = version {
        out.extend_from_slice(br#","version":"#);
        json::write_json(&mut out, &version);
    }
    out.extend_from_slice(b"}}");
    out
}

pub fn encode_show_message(typ: lsp::MessageType, message: String) -> Body {
    let params = lsp::ShowMessageParams { typ, message };
    encode(&Request::build("window/showMessage").params(serde_json::to_value(params).unwrap_or_default()).finish())
}

fn write_diagnostic(out: &mut Vec<u8>, diagnostic: &lsp::Diagnostic) {
    out.extend_from_slice(br#"{"range":"#);
    json::write_range(out, &diagnostic.range);
    if let Some(severity) = diagnostic.severity {
        out.extend_from_slice(br#","severity":"#);
        json::write_json(out, &severity);
    }
    if let Some(code) = &diagnostic.code {
        out.extend_from_slice(br#","code":"#);
        json::write_json(out, code);
    }
    if let Some(description) = &diagnostic.code_description {
        out.extend_from_slice(br#","codeDescription":{"href":"#);
        json::write_json(out, &description.href);
        out.push(b'}');
    }
    if let Some(source) = &diagnostic.source {
        out.extend_from_slice(br#","source":"#);
        json::write_json(out, source);
    }
    out.extend_from_slice(br#","message":"#);
    json::write_json(out, &diagnostic.message);
    // Our diagnostics have neither related information nor data; serde writes them if one does.
    if let Some(related) = &diagnostic.related_information {
        out.extend_from_slice(br#","relatedInformation":"#);
        json::write_json(out, related);
    }
    if let Some(tags) = &diagnostic.tags {
        out.extend_from_slice(br#","tags":"#);
        json::write_json(out, tags);
    }
    if let Some(data) = &diagnostic.data {
        out.extend_from_slice(br#","data":"#);
        json::write_json(out, data);
    }
    out.push(b'}');
}

fn encode(message: &impl Serialize) -> Body {
    // JSON-RPC messages have string keys only; serialising them cannot fail.
    serde_json::to_vec(message).expect("a JSON-RPC message serialises")
}

// --- reading ----------------------------------------------------------------------------------

fn read_messages(input: impl BufRead, to_dispatch: &mpsc::Sender<Incoming>) {
    let mut frames = Frames::new(input);
    loop {
        let body = match frames.next_body() {
            Ok(Some(body)) => body,
            Ok(None) => return,
            Err(error) => {
                tracing::error!("cannot read stdin: {error}");
                return;
            }
        };
        if let Some(message) = decode(&body) {
            if to_dispatch.blocking_send(message).is_err() {
                return;
            }
        }
    }
}

/// The bodies of the messages in a byte stream framed with `Content-Length` headers.
struct Frames<R> {
    input: R,
    line: Vec<u8>,
}

impl<R: BufRead> Frames<R> {
    fn new(input: R) -> Frames<R> {
        Frames { input, line: Vec::new() }
    }

    /// The next body, `None` at the end of the input. Anything that is not a header block with a
    /// valid `Content-Length` is logged and skipped, up to the next one that is.
    fn next_body(&mut self) -> io::Result<Option<Body>> {
        let mut length = None;
        // Whether the current header block has lines (blank lines between messages are harmless).
        let mut in_header = false;
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            if self.line.is_empty() {
                match length {
                    Some(length) => return self.read_body(length),
                    None if in_header => tracing::warn!("skipped a message header without a valid Content-Length"),
                    None => {}
                }
                in_header = false;
                continue;
            }
            in_header = true;
            match content_length(&self.line) {
                Some((Ok(value), skipped)) => {
                    if skipped > 0 {
                        tracing::warn!("skipped {skipped} bytes before a Content-Length header");
                    }
                    length = Some(value);
                }
                Some((Err(()), _)) => {
                    tracing::warn!("invalid header {:?}", String::from_utf8_lossy(&self.line));
                    length = None;
                }
                // Content-Type (always UTF-8 JSON in practice) and headers nobody defined.
                None => tracing::debug!("ignored header {:?}", String::from_utf8_lossy(&self.line)),
            }
        }
    }

    /// Reads the next line into `self.line`, without its line break, keeping only the end of an
    /// overlong one. `false` at the end of the input (a last line without a line break cannot
    /// start a message).
    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                return Ok(false);
            }
            let (taken, complete) = match available.iter().position(|&b| b == b'\n') {
                Some(end) => (end + 1, true),
                None => (available.len(), false),
            };
            self.line.extend_from_slice(&available[..taken]);
            self.input.consume(taken);
            if self.line.len() > MAX_HEADER_LINE {
                self.line.drain(..self.line.len() - KEPT_OF_LONG_LINE);
            }
            if complete {
                self.line.pop();
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                return Ok(true);
            }
        }
    }

    fn read_body(&mut self, length: usize) -> io::Result<Option<Body>> {
        let mut body = Vec::with_capacity(length.min(1 << 20));
        (&mut self.input).take(length as u64).read_to_end(&mut body)?;
        Ok((body.len() == length).then_some(body))
    }
}

/// The value of the `Content-Length` header in `line`, if it has one, and how many bytes come
/// before the header (the tail of a body whose length was given too short). Header names are
/// case-insensitive.
fn content_length(line: &[u8]) -> Option<(Result<usize, ()>, usize)> {
    const NAME: &[u8] = b"content-length:";
    let start = line.windows(NAME.len()).rposition(|window| window.eq_ignore_ascii_case(NAME))?;
    let value = std::str::from_utf8(&line[start + NAME.len()..]).map_err(|_| ());
    Some((value.and_then(|value| value.trim().parse().map_err(|_| ())), start))
}

/// What a message body is. `None` for an answer from the client that cannot be read: there is
/// no one to tell.
fn decode(body: &[u8]) -> Option<Incoming> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            tracing::warn!("a message that is not JSON: {error}");
            return Some(Incoming::Unreadable(Response::from_error(Id::Null, Error::parse_error())));
        }
    };
    let is_object = value.is_object();
    let has = |key: &str| value.get(key).is_some();
    if is_object && !has("method") && (has("result") || has("error")) {
        return match serde_json::from_value(value) {
            Ok(response) => Some(Incoming::Response(response)),
            Err(error) => {
                tracing::warn!("an answer from the client that is not a JSON-RPC response: {error}");
                None
            }
        };
    }
    // Answered with the message's id when it has a usable one.
    let id = value.get("id").and_then(|id| serde_json::from_value::<Id>(id.clone()).ok()).unwrap_or(Id::Null);
    if !(is_object && has("method")) {
        tracing::warn!("a JSON value that is not a JSON-RPC message");
        return Some(Incoming::Unreadable(Response::from_error(id, Error::invalid_request())));
    }
    match serde_json::from_value(value) {
        Ok(request) => Some(Incoming::Request(request)),
        Err(error) => {
            tracing::warn!("a message that is not a JSON-RPC request: {error}");
            Some(Incoming::Unreadable(Response::from_error(id, Error::invalid_request())))
        }
    }
}

// --- writing ----------------------------------------------------------------------------------

enum Frame {
    Message(Body),
    /// Stop writing: the server is exiting.
    End,
}

/// The channel to the writer thread: messages are written in the order they are sent here.
#[derive(Clone)]
pub struct Outgoing(std_mpsc::Sender<Frame>);

impl Outgoing {
    pub fn send(&self, body: Body) {
        // The writer is gone only when stdout failed, which it has logged.
        let _ = self.0.send(Frame::Message(body));
    }

    fn send_answer(&self, answer: Option<Body>) {
        if let Some(body) = answer {
            self.send(body);
        }
    }
}

/// Writes every frame sent until [`Frame::End`], flushing whenever no more are waiting.
fn write_messages(mut output: impl Write, frames: &std_mpsc::Receiver<Frame>) {
    while let Ok(mut frame) = frames.recv() {
        loop {
            let Frame::Message(body) = frame else {
                let _ = output.flush();
                return;
            };
            if let Err(error) = write_frame(&mut output, &body) {
                tracing::error!("cannot write to stdout: {error}");
                return;
            }
            SpareBody::keep(body);
            match frames.try_recv() {
                Ok(next) => frame = next,
                Err(_) => break,
            }
        }
        if let Err(error) = output.flush() {
            tracing::error!("cannot write to stdout: {error}");
            return;
        }
    }
}

fn write_frame(output: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(output, "Content-Length: {}\r\n\r\n", body.len())?;
    output.write_all(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_answers_reuse_the_biggest_buffer_written() {
        // Capacities no other test uses: the spare is process-wide.
        let big = SpareBody::MIN_CAPACITY * 7;
        SpareBody::keep(Vec::with_capacity(big));
        // A smaller buffer does not replace it.
        SpareBody::keep(Vec::with_capacity(SpareBody::MIN_CAPACITY * 2));
        assert!(SpareBody::take(big * 2).is_none(), "too small for it");
        let reused = SpareBody::take(big - 100).expect("the kept buffer");
        assert!(reused.capacity() >= big && reused.is_empty());
        assert!(SpareBody::take(SpareBody::MIN_CAPACITY).is_none(), "taken once");
        SpareBody::keep(reused);
        SpareBody::release();
        assert!(SpareBody::take(SpareBody::MIN_CAPACITY).is_none(), "released");
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// The bodies `Frames` finds in `input`, as text.
    fn bodies(input: &str) -> Vec<String> {
        let mut frames = Frames::new(input.as_bytes());
        std::iter::from_fn(|| frames.next_body().unwrap()).map(|body| String::from_utf8(body).unwrap()).collect()
    }

    #[test]
    fn frames_are_read_with_any_header_case_and_extra_headers() {
        let input = format!(
            "{}{}\r\ncontent-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:2\r\n\r\n{{}}\n\n{}",
            frame("[1]"),
            frame("\"é\""),
            frame("null")
        );
        assert_eq!(bodies(&input), ["[1]", "\"é\"", "{}", "null"]);
        // Bare line feeds too.
        assert_eq!(bodies("Content-Length: 4\n\ntrue"), ["true"]);
    }

    #[test]
    fn bad_headers_are_skipped_to_the_next_content_length() {
        // No Content-Length at all, then a message.
        assert_eq!(bodies(&format!("Content-Type: x\r\n\r\n{}", frame("1"))), ["1"]);
        // A value that is no number: its body runs into the next header, which is found.
        assert_eq!(bodies(&format!("Content-Length: many\r\n\r\n{{\"a\": 1}}{}", frame("2"))), ["2"]);
        // Garbage lines before a header.
        assert_eq!(bodies(&format!("garbage\r\n{{\"x\"\r\n{}", frame("3"))), ["3"]);
        // A length too short: the rest of the body precedes the next header on its line.
        assert_eq!(bodies(&format!("Content-Length: 3\r\n\r\n[1, 2]{}", frame("4"))), ["[1,", "4"]);
        // A long garbage line keeps its end, where the header is.
        let long = "x".repeat(3 * MAX_HEADER_LINE);
        assert_eq!(bodies(&format!("{long}{}", frame("5"))), ["5"]);
        assert_eq!(bodies(&format!("{long}\r\n{long}\r\n\r\n{}", frame("6"))), ["6"]);
    }

    #[test]
    fn the_input_ends_at_a_partial_message() {
        assert_eq!(bodies("Content-Length: 10\r\n\r\n[1, 2"), Vec::<String>::new());
        assert_eq!(bodies(&format!("{}Content-Length: 3", frame("1"))), ["1"]);
        assert_eq!(bodies(""), Vec::<String>::new());
    }

    fn unreadable(body: &[u8]) -> (i64, Id) {
        match decode(body) {
            Some(Incoming::Unreadable(response)) => {
                let (id, result) = response.into_parts();
                (result.unwrap_err().code.code(), id)
            }
            _ => panic!("{} was read", String::from_utf8_lossy(body)),
        }
    }

    #[test]
    fn bodies_that_are_no_message_are_answered_with_errors() {
        for body in [&b"{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": "[..], b"\xff\xfe not utf-8", b"", b"{} {}"] {
            assert_eq!(unreadable(body), (-32700, Id::Null), "{}", String::from_utf8_lossy(body));
        }
        for body in [&b"null"[..], b"[1, 2, 3]", b"{}", b"7", b"{\"id\": 1.5}"] {
            assert_eq!(unreadable(body), (-32600, Id::Null), "{}", String::from_utf8_lossy(body));
        }
        // With an id, the error goes to it.
        assert_eq!(unreadable(br#"{"jsonrpc": "2.0", "id": 7, "method": 5}"#), (-32600, Id::Number(7)));
        assert_eq!(unreadable(br#"{"jsonrpc": "1.0", "id": "a", "method": "x"}"#), (-32600, Id::String("a".into())));
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        let Some(Incoming::Request(request)) = decode(br#"{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}"#) else {
            panic!("a request")
        };
        assert_eq!((request.method(), request.id()), ("shutdown", Some(&Id::Number(1))));
        let Some(Incoming::Request(notification)) = decode(br#"{"jsonrpc": "2.0", "method": "exit"}"#) else {
            panic!("a notification")
        };
        assert_eq!(notification.id(), None);
        let Some(Incoming::Response(response)) = decode(br#"{"jsonrpc": "2.0", "id": 3, "result": [null]}"#) else {
            panic!("a response")
        };
        assert_eq!(response.id(), &Id::Number(3));
        assert!(decode(br#"{"jsonrpc": "2.0", "id": 4, "error": {"code": -1}}"#).is_none());
    }

    #[test]
    fn frames_are_written_with_their_length_and_flushed() {
        let (sender, frames) = std_mpsc::channel();
        for body in ["{\"a\":\"é\"}", "[]"] {
            sender.send(Frame::Message(body.as_bytes().to_vec())).unwrap();
        }
        sender.send(Frame::End).unwrap();
        sender.send(Frame::Message(b"after the end".to_vec())).unwrap();
        let mut output = Vec::new();
        write_messages(&mut output, &frames);
        assert_eq!(String::from_utf8(output).unwrap(), format!("{}{}", frame("{\"a\":\"é\"}"), frame("[]")));
    }

    #[test]
    fn results_written_by_handlers_are_framed_as_serde_frames_them() {
        for id in [Id::Number(-3), Id::String("a\"b".into()), Id::Null] {
            let mut written = ResultBody::with_capacity(4);
            written.result().extend_from_slice(br#"[{"a":1}]"#);
            let by_hand = encode_written(id.clone(), Some(written));
            assert_eq!(String::from_utf8(by_hand).unwrap(), String::from_utf8(encode_result(id.clone(), serde_json::json!([{"a": 1}]))).unwrap());
            let null = encode_written(id.clone(), None);
            assert_eq!(String::from_utf8(null).unwrap(), String::from_utf8(encode_result(id.clone(), Value::Null)).unwrap());
        }
    }

    #[test]
    fn diagnostics_are_published_as_serde_writes_them() {
        let uri: lsp::Uri = "file:///tmp/caf%C3%A9/Kubefile".parse().unwrap();
        let range = lsp::Range::new(lsp::Position::new(3, 0), lsp::Position::new(u32::MAX, 17));
        let message = "`a\"b\\c` caf\u{e9}\u{2028} \u{1}\u{1f}\u{7f}\t\n\r 😀 </script>";
        let everything = lsp::Diagnostic {
            range,
            severity: Some(lsp::DiagnosticSeverity::HINT),
            code: Some(lsp::NumberOrString::String("unknown-\"label\"".into())),
            code_description: Some(lsp::CodeDescription {
                href: "https://example.com/docs.md#unknown-label".parse().unwrap(),
            }),
            source: Some("kubefile-ls".into()),
            message: message.into(),
            related_information: Some(vec![lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(uri.clone(), range),
                message: message.into(),
            }]),
            tags: Some(vec![lsp::DiagnosticTag::UNNECESSARY, lsp::DiagnosticTag::DEPRECATED]),
            data: Some(serde_json::json!({"fix": [1, "\u{0}", null], "a": {"z": true}})),
        };
        let bare = lsp::Diagnostic {
            code: Some(lsp::NumberOrString::Number(-7)),
            related_information: Some(Vec::new()),
            tags: Some(Vec::new()),
            ..lsp::Diagnostic::new_simple(range, String::new())
        };
        #[derive(Serialize)]
        struct Notification<'a> {
            jsonrpc: &'static str,
            method: &'static str,
            params: &'a lsp::PublishDiagnosticsParams,
        }
        for version in [Some(-1), Some(i32::MAX), None] {
            for diagnostics in [vec![everything.clone(), bare.clone(), everything.clone()], Vec::new()] {
                let params = lsp::PublishDiagnosticsParams::new(uri.clone(), diagnostics, version);
                let by_hand = encode_publish_diagnostics(&params.uri, &params.diagnostics, params.version);
                let by_serde = encode(&Notification {
                    jsonrpc: "2.0",
                    method: "textDocument/publishDiagnostics",
                    params: &params,
                });
                assert_eq!(String::from_utf8(by_hand.clone()).unwrap(), String::from_utf8(by_serde).unwrap());
                // The message tower-lsp-server's `Client::publish_diagnostics` sent, as JSON values.
                let by_client = Request::build("textDocument/publishDiagnostics")
                    .params(serde_json::to_value(&params).unwrap())
                    .finish();
                let by_hand: Value = serde_json::from_slice(&by_hand).unwrap();
                assert_eq!(by_hand, serde_json::to_value(by_client).unwrap());
            }
        }
    }

    fn error_code(body: Option<Body>) -> Option<i64> {
        let response: Response = serde_json::from_slice(&body.expect("an answer")).unwrap();
        response.error().map(|error| error.code.code())
    }

    #[tokio::test]
    async fn requests_in_flight_can_be_cancelled_once_and_their_ids_are_unique_while_in_flight() {
        let in_flight = Arc::new(InFlight::default());
        let answered = || future::ready(Some(encode(&Response::from_ok(Id::Number(1), Value::Null)))).boxed();
        let slow = in_flight.track(Id::Number(1), future::pending().boxed());
        let refused = in_flight.track(Id::Number(1), answered()).await;
        assert!(refused.as_deref().is_some_and(|body| String::from_utf8_lossy(body).contains("request id 1 is already used")));
        assert_eq!(error_code(refused), Some(-32600));
        in_flight.cancel(&Id::Number(1));
        assert_eq!(error_code(slow.await), Some(-32800));
        // Answered, or never sent: nothing to cancel.
        assert_eq!(error_code(in_flight.track(Id::Number(1), answered()).await), None);
        in_flight.cancel(&Id::Number(1));
        in_flight.cancel(&Id::String("nope".into()));
        assert!(in_flight.is_empty());
        in_flight.wait_until_empty(Duration::from_secs(5)).await;
    }
}
