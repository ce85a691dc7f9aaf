//! Requests to the API server as the recorder needs them: raw bytes, every failure classified
//! (so the state machine can choose between retrying, resuming, a GAP and a re-list),
//! `Retry-After` kept, credentials renewed once on a 401, and bounded — a time limit without
//! progress (a stalled stream) and a size limit on what is held in memory.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use kube::client::Body;
use serde::Deserialize;

use super::connect::Clients;

/// The longest watch event (one line) the recorder holds; the API server's largest object is
/// far smaller (etcd's default request limit is 1.5 MiB).
pub const MAX_EVENT_BYTES: usize = 64 << 20;

/// The most a list page may hold; a larger page is asked for again with half the items.
pub const MAX_PAGE_BYTES: usize = 256 << 20;

/// The most of an error response that is read (a `Status` is small).
const MAX_ERROR_BYTES: usize = 64 << 10;

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Why a request did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// 410 Gone: the resourceVersion (or continue token) is too old.
    Expired(String),
    /// The resourceVersion is newer than anything the server has: its history went back
    /// (etcd restored from a backup). The API server answers 504 with the cause
    /// `ResourceVersionTooLarge` (`k8s.io/apiserver/pkg/storage/errors.go`,
    /// `NewTooLargeResourceVersionError`); client-go's reflector then lists again from scratch.
    TooLarge(String),
    /// 401, also after credentials were renewed.
    Unauthorized(String),
    /// 403.
    Forbidden(String),
    /// 404: the resource is no longer served (e.g. its CRD was deleted).
    NotFound(String),
    /// The response (a list page or one watch event) is larger than the recorder holds.
    TooBig(usize),
    /// Anything else — 429, 5xx, a reset connection, a stalled stream: retry, after
    /// `retry_after` when the server said so.
    Transient {
        /// What happened.
        message: String,
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
    },
}

impl Failure {
    fn transient(message: impl Into<String>) -> Failure {
        Failure::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// The failure in words, as a GAP or a log line says it.
    pub fn describe(&self) -> String {
        match self {
            Failure::Expired(message) => format!("410 Gone: {message}"),
            Failure::TooLarge(message) => format!(
                "the server's history is behind the recorded resourceVersion (etcd restored from a backup?): {message}"
            ),
            Failure::Unauthorized(message) => format!("401 Unauthorized: {message}"),
            Failure::Forbidden(message) => format!("403 Forbidden: {message}"),
            Failure::NotFound(message) => format!("404 Not Found: {message}"),
            Failure::TooBig(limit) => format!("a response larger than {} MiB", limit >> 20),
            Failure::Transient { message, .. } => message.clone(),
        }
    }
}

/// The parts of a `metav1.Status` the recorder reads.
#[derive(Debug, Default, Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    details: Option<StatusDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct StatusDetails {
    #[serde(default)]
    causes: Vec<StatusCause>,
    #[serde(default, rename = "retryAfterSeconds")]
    retry_after_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct StatusCause {
    #[serde(default)]
    reason: String,
}

/// Sends requests through the current client.
pub struct Api {
    clients: Arc<Clients>,
    stall: Duration,
}

impl Api {
    /// Requests through `clients`; a response that makes no progress for `stall` fails.
    pub fn new(clients: Arc<Clients>, stall: Duration) -> Api {
        Api { clients, stall }
    }

    /// GETs `path_and_query` and returns the body, at most `limit` bytes of it.
    pub async fn get(&self, path_and_query: &str, limit: usize) -> Result<Vec<u8>, Failure> {
        let response = self.send(path_and_query).await?;
        read_body(response.into_body(), limit, self.stall).await
    }

    /// Opens a watch: the stream of its lines.
    pub async fn watch(&self, path_and_query: &str) -> Result<WatchStream, Failure> {
        let response = self.send(path_and_query).await?;
        Ok(WatchStream {
            body: response.into_body(),
            buffer: Vec::new(),
            scanned: 0,
            stall: self.stall,
            ended: false,
        })
    }

    /// Sends a GET; on a 401, renews the credentials once and sends it again.
    async fn send(&self, path_and_query: &str) -> Result<http::Response<Body>, Failure> {
        let (generation, client) = self.clients.get();
        match self.send_once(&client, path_and_query).await {
            Err(Failure::Unauthorized(message)) => {
                if let Err(err) = self.clients.renew(generation).await {
                    return Err(Failure::Unauthorized(format!(
                        "{message} (renewing the credentials failed: {err})"
                    )));
                }
                let (_, client) = self.clients.get();
                self.send_once(&client, path_and_query).await
            }
            other => other,
        }
    }

    async fn send_once(
        &self,
        client: &kube::Client,
        path_and_query: &str,
    ) -> Result<http::Response<Body>, Failure> {
        let request = http::Request::get(path_and_query)
            .body(Body::empty())
            .map_err(|err| Failure::transient(err.to_string()))?;
        let sent = tokio::time::timeout(self.stall, client.send(request)).await;
        let response = match sent {
            Err(_) => {
                return Err(Failure::transient(format!(
                    "no response in {}",
                    seconds(self.stall)
                )))
            }
            Ok(Err(err)) => return Err(Failure::transient(err.to_string())),
            Ok(Ok(response)) => response,
        };
        if response.status().is_success() {
            return Ok(response);
        }
        Err(classify(response, self.stall).await)
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// The failure an unsuccessful response stands for.
async fn classify(response: http::Response<Body>, stall: Duration) -> Failure {
    let code = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let body = read_body(response.into_body(), MAX_ERROR_BYTES, stall)
        .await
        .unwrap_or_default();
    let status: Status = serde_json::from_slice(&body).unwrap_or_else(|_| Status {
        message: String::from_utf8_lossy(&body).trim().to_string(),
        ..Status::default()
    });
    let message = status.message.clone();
    let details = status.details.unwrap_or_default();
    let too_large = details
        .causes
        .iter()
        .any(|cause| cause.reason == "ResourceVersionTooLarge")
        || message.contains("Too large resource version");
    match code {
        410 => Failure::Expired(message),
        504 if too_large => Failure::TooLarge(message),
        401 => Failure::Unauthorized(message),
        403 => Failure::Forbidden(message),
        404 => Failure::NotFound(message),
        _ => Failure::Transient {
            message: format!("{code} {}: {message}", status.reason)
                .trim_end_matches([' ', ':'])
                .to_string(),
            retry_after: retry_after.or(details.retry_after_seconds.map(Duration::from_secs)),
        },
    }
}

/// `Retry-After` in seconds (the API server never sends the HTTP-date form), at most
/// [`MAX_RETRY_AFTER`].
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Reads a whole body, failing when it holds more than `limit` bytes or stalls for `stall`.
async fn read_body(mut body: Body, limit: usize, stall: Duration) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    loop {
        match next_data(&mut body, stall).await? {
            None => return Ok(bytes),
            Some(data) if bytes.len() + data.len() > limit => return Err(Failure::TooBig(limit)),
            Some(data) => bytes.extend_from_slice(&data),
        }
    }
}

/// The next data of a body; `None` at its end.
async fn next_data(body: &mut Body, stall: Duration) -> Result<Option<Vec<u8>>, Failure> {
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Err(_) => {
                return Err(Failure::transient(format!(
                    "the stream stalled: nothing for {}",
                    seconds(stall)
                )))
            }
            Ok(None) => return Ok(None),
            Ok(Some(Err(err))) => {
                return Err(Failure::transient(format!("the stream broke: {err}")))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data.to_vec()));
        }
    }
}

/// The lines of a watch response, each at most [`MAX_EVENT_BYTES`].
pub struct WatchStream {
    body: Body,
    buffer: Vec<u8>,
    /// How much of `buffer` has been searched for a newline.
    scanned: usize,
    stall: Duration,
    ended: bool,
}

impl WatchStream {
    /// The next line without its newline; `None` when the server ended the stream cleanly.
    ///
    /// A stream that breaks or ends inside a line fails: the event in it was not received
    /// whole, and the watch must resume before it.
    pub async fn next_line(&mut self) -> Result<Option<Vec<u8>>, Failure> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buffer[self.scanned..]) {
                let end = self.scanned + at;
                let line = self.buffer[..end].to_vec();
                self.buffer.drain(..=end);
                self.scanned = 0;
                return Ok(Some(line));
            }
            self.scanned = self.buffer.len();
            if self.buffer.len() > MAX_EVENT_BYTES {
                return Err(Failure::TooBig(MAX_EVENT_BYTES));
            }
            if self.ended {
                return match self.buffer.iter().all(u8::is_ascii_whitespace) {
                    true => Ok(None),
                    false => Err(Failure::transient("the stream ended inside an event")),
                };
            }
            match next_data(&mut self.body, self.stall).await? {
                Some(data) => self.buffer.extend_from_slice(&data),
                None => self.ended = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(code: u16, headers: &[(&str, &str)], body: &str) -> http::Response<Body> {
        let mut builder = http::Response::builder().status(code);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::from(body.as_bytes().to_vec())).unwrap()
    }

    fn status(code: u16, reason: &str, message: &str, details: &str) -> String {
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","message":"{message}","reason":"{reason}","code":{code}{details}}}"#
        )
    }

    async fn classified(code: u16, headers: &[(&str, &str)], body: &str) -> Failure {
        classify(response(code, headers, body), Duration::from_secs(1)).await
    }

    #[tokio::test]
    async fn each_failure_is_told_apart() {
        let gone = status(410, "Expired", "too old resource version: 5 (90)", "");
        assert_eq!(
            classified(410, &[], &gone).await,
            Failure::Expired("too old resource version: 5 (90)".into())
        );
        let too_large = status(
            504,
            "Timeout",
            "Too large resource version: 1500, current: 1200",
            r#","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1}"#,
        );
        assert!(matches!(
            classified(504, &[], &too_large).await,
            Failure::TooLarge(m) if m.contains("1500")
        ));
        let forbidden = status(403, "Forbidden", "pods is forbidden", "");
        assert!(matches!(
            classified(403, &[], &forbidden).await,
            Failure::Forbidden(_)
        ));
        assert!(matches!(
            classified(401, &[], "Unauthorized").await,
            Failure::Unauthorized(m) if m == "Unauthorized"
        ));
    }

    #[tokio::test]
    async fn throttling_keeps_the_servers_retry_after() {
        let busy = status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            "",
        );
        let failure = classified(429, &[("Retry-After", "3")], &busy).await;
        assert_eq!(
            failure,
            Failure::Transient {
                message: "429 TooManyRequests: Too many requests, please try again later.".into(),
                retry_after: Some(Duration::from_secs(3)),
            }
        );
        let failure = classified(503, &[("Retry-After", "99999")], "").await;
        assert!(matches!(
            failure,
            Failure::Transient { retry_after: Some(d), .. } if d == MAX_RETRY_AFTER
        ));
        let plain = classified(500, &[], "boom").await;
        assert!(
            matches!(plain, Failure::Transient { message, retry_after: None } if message.contains("500") && message.contains("boom"))
        );
    }

    #[tokio::test]
    async fn a_body_larger_than_its_limit_is_refused() {
        let body = Body::from(vec![b'x'; 100]);
        assert_eq!(
            read_body(body, 10, Duration::from_secs(1)).await,
            Err(Failure::TooBig(10))
        );
    }

    fn stream(text: &str) -> WatchStream {
        WatchStream {
            body: Body::from(text.as_bytes().to_vec()),
            buffer: Vec::new(),
            scanned: 0,
            stall: Duration::from_secs(1),
            ended: false,
        }
    }

    #[tokio::test]
    async fn watch_lines_come_whole_and_a_cut_last_event_is_a_failure() {
        let mut lines = stream("{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(lines.next_line().await, Ok(Some(b"{\"a\":1}".to_vec())));
        assert_eq!(lines.next_line().await, Ok(Some(b"{\"b\":2}".to_vec())));
        assert_eq!(lines.next_line().await, Ok(None));
        let mut cut = stream("{\"a\":1}\n{\"b\"");
        assert!(cut.next_line().await.unwrap().is_some());
        assert!(matches!(
            cut.next_line().await,
            Err(Failure::Transient { message, .. }) if message.contains("inside an event")
        ));
    }
}
