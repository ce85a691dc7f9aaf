//! The driver of one resource's state machine: list pages and watch streams over raw HTTP,
//! so objects are kept byte for byte and watch types verbatim.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::api::{Api, Failure, MAX_PAGE_BYTES};
use super::sink::Message;
use super::state::{step, Emit, Input, State};
use crate::redact::Redactor;
use crate::trace::{EventType, ResourceInfo};

/// Items per list page.
const PAGE_SIZE: u32 = 500;
/// How long the server may keep a watch open before the driver re-opens it.
const WATCH_TIMEOUT_SECONDS: u32 = 290;
/// A watch that ends this soon after it opened, having sent nothing, counts as a failure, so a
/// server (or proxy) that closes every watch at once is not asked again in a tight loop.
const QUICK_END: Duration = Duration::from_secs(1);

/// One resource (in one namespace, or all) to record.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub info: ResourceInfo,
    /// The namespace to record, or all (also for cluster-scoped resources).
    pub namespace: Option<String>,
    /// A label selector, passed to the server.
    pub selector: Option<String>,
    /// What is redacted before an object is written.
    pub redactor: Arc<Redactor>,
}

impl Target {
    fn api_version(&self) -> String {
        if self.info.group.is_empty() {
            self.info.version.clone()
        } else {
            format!("{}/{}", self.info.group, self.info.version)
        }
    }

    /// The collection URL path, e.g. `/apis/apps/v1/namespaces/shop/deployments`.
    fn path(&self) -> String {
        let base = if self.info.group.is_empty() {
            format!("/api/{}", self.info.version)
        } else {
            format!("/apis/{}/{}", self.info.group, self.info.version)
        };
        match (&self.namespace, self.info.namespaced) {
            (Some(ns), true) => format!("{base}/namespaces/{ns}/{}", self.info.resource),
            _ => format!("{base}/{}", self.info.resource),
        }
    }

    fn query(&self, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = extra.to_vec();
        if let Some(selector) = &self.selector {
            pairs.push(("labelSelector", selector.clone()));
        }
        let encoded: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("{}?{}", self.path(), encoded.join("&"))
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct ListMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

#[derive(Deserialize)]
struct Page<'a> {
    metadata: ListMeta,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct WatchLine<'a> {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(borrow)]
    object: &'a RawValue,
}

#[derive(Deserialize, Default)]
struct Head {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: HeadMeta,
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct HeadMeta {
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
}

/// Records one resource until the task is cancelled or the writer is gone.
///
/// Nothing else stops it: a resource that can no longer be read gets a GAP and is listed
/// again, with a growing wait, until it can be.
pub async fn record(
    api: Arc<Api>,
    target: Target,
    sender: mpsc::Sender<Message>,
    synced: mpsc::Sender<()>,
    retry: RetryPolicy,
) {
    let resource: Arc<str> = Arc::from(target.info.path().as_str());
    let mut driver = Driver {
        api,
        target,
        sender,
        resource,
        synced: Some(synced),
        retry: Retry::new(retry),
        page_size: PAGE_SIZE,
        lost: None,
    };
    let mut state = State::start();
    loop {
        let next = match &state {
            State::Listing { continue_token, .. } => {
                driver.list(state.clone(), continue_token.clone()).await
            }
            State::Watching { resource_version } => {
                driver.watch(state.clone(), resource_version.clone()).await
            }
        };
        match next {
            Some(next) => state = next,
            None => return,
        }
    }
}

/// How long to wait between failed requests.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The first wait. Default is 200 ms.
    pub first: Duration,
    /// The longest wait (the waits double up to it). Default is 30 s.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

/// Exponential backoff with jitter; the server's `Retry-After` wins when it gives one.
struct Retry {
    policy: RetryPolicy,
    next: Duration,
    failures: u32,
    seed: u64,
}

impl Retry {
    fn new(policy: RetryPolicy) -> Retry {
        let mut seed = [0u8; 8];
        let _ = getrandom::getrandom(&mut seed);
        Retry {
            policy,
            next: policy.first,
            failures: 0,
            seed: u64::from_le_bytes(seed) | 1,
        }
    }

    /// The wait before the next attempt: `retry_after`, else the backoff with jitter (50–100 %).
    fn wait(&mut self, retry_after: Option<Duration>) -> Duration {
        self.failures += 1;
        let backoff = self.next;
        self.next = (self.next * 2).min(self.policy.max);
        // xorshift: jitter keeps many watchers that failed together from retrying together.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        retry_after.unwrap_or_else(|| backoff.mul_f64(jitter))
    }

    fn succeeded(&mut self) {
        self.next = self.policy.first;
        self.failures = 0;
    }
}

struct Driver {
    api: Arc<Api>,
    target: Target,
    sender: mpsc::Sender<Message>,
    resource: Arc<str>,
    synced: Option<mpsc::Sender<()>>,
    retry: Retry,
    /// Items asked for per list page (halved when a page is too large to hold).
    page_size: u32,
    /// Why the resource cannot be read, while it cannot.
    lost: Option<String>,
}

impl Driver {
    /// Fetches one list page and applies it; `None` when the writer is gone.
    async fn list(&mut self, state: State, continue_token: Option<String>) -> Option<State> {
        let mut params = vec![("limit", self.page_size.to_string())];
        if let Some(token) = continue_token {
            params.push(("continue", token));
        }
        let body = match self
            .api
            .get(&self.target.query(&params), MAX_PAGE_BYTES)
            .await
        {
            Ok(body) => body,
            Err(Failure::TooBig(_)) if self.page_size > 1 => {
                self.page_size /= 2;
                tracing::info!(resource = %self.resource, "a list page was too large; asking for {} items a page", self.page_size);
                return Some(state);
            }
            Err(failure) => return self.after_failure(state, failure).await,
        };
        let Ok(page) = serde_json::from_slice::<Page<'_>>(&body) else {
            let failure = Failure::Transient {
                message: "a list page did not parse".into(),
                retry_after: None,
            };
            return self.after_failure(state, failure).await;
        };
        self.retry.succeeded();
        let input = Input::Page {
            items: page.items,
            resource_version: page.metadata.resource_version,
            continue_token: page.metadata.continue_token,
        };
        let (emits, next) = step(state, input);
        if matches!(next, State::Watching { .. }) {
            if let Some(why) = self.lost.take() {
                tracing::warn!(resource = %self.resource, "recording again after a re-list (it could not be read: {why})");
            }
        }
        self.write(emits).await?;
        Some(next)
    }

    /// Watches until the stream ends or fails; `None` when the writer is gone.
    async fn watch(&mut self, mut state: State, resource_version: String) -> Option<State> {
        let params = [
            ("watch", "1".to_string()),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true".to_string()),
            ("timeoutSeconds", WATCH_TIMEOUT_SECONDS.to_string()),
        ];
        let opened = Instant::now();
        let mut stream = match self.api.watch(&self.target.query(&params)).await {
            Ok(stream) => stream,
            Err(failure) => return self.after_failure(state, failure).await,
        };
        let mut lines = 0u64;
        loop {
            let line = match stream.next_line().await {
                Ok(Some(line)) => line,
                // The server ended the watch (its timeout): open it again where it stopped,
                // at once unless it keeps ending watches as soon as they open.
                Ok(None) if lines > 0 || opened.elapsed() >= QUICK_END => return Some(state),
                Ok(None) => {
                    let failure = Failure::Transient {
                        message: "the watch ended as soon as it opened".into(),
                        retry_after: None,
                    };
                    return self.after_failure(state, failure).await;
                }
                // An event too large to hold cannot be recorded: a GAP, and a re-list.
                Err(failure @ Failure::TooBig(_)) => {
                    let reason = format!("a watch event was not recorded: {}", failure.describe());
                    let (emits, next) = step(state, Input::CannotResume { reason });
                    self.write(emits).await?;
                    return Some(next);
                }
                Err(failure) => return self.after_failure(state, failure).await,
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(parsed) = serde_json::from_slice::<WatchLine<'_>>(&line) else {
                tracing::warn!(resource = %self.resource, "a watch line did not parse");
                continue;
            };
            lines += 1;
            let input = watch_input(&parsed);
            if matches!(input, Input::Interrupted) {
                let failure = Failure::Transient {
                    message: format!(
                        "the watch sent {}: {}",
                        parsed.event_type,
                        parsed.object.get()
                    ),
                    retry_after: None,
                };
                return self.after_failure(state, failure).await;
            }
            let cannot_resume = matches!(input, Input::CannotResume { .. });
            let (emits, next) = step(state, input);
            self.write(emits).await?;
            state = next;
            self.retry.succeeded();
            if cannot_resume {
                return Some(state);
            }
        }
    }

    /// Turns a failure into the state machine's input, writes what it emits, and waits
    /// before the next attempt when one is due.
    async fn after_failure(&mut self, state: State, failure: Failure) -> Option<State> {
        let reason = failure.describe();
        let (input, wait) = match failure {
            // Nothing to wait for: list again at once.
            Failure::Expired(_) | Failure::TooLarge(_) => (Input::CannotResume { reason }, None),
            Failure::Unauthorized(_)
            | Failure::Forbidden(_)
            | Failure::NotFound(_)
            | Failure::TooBig(_) => {
                if self.lost.is_none() {
                    tracing::warn!(resource = %self.resource, "cannot be read, so it is not recorded until it can be (a GAP marks where): {reason}");
                }
                self.lost = Some(reason.clone());
                (Input::Lost { reason }, Some(self.retry.wait(None)))
            }
            Failure::Transient { retry_after, .. } => {
                let wait = self.retry.wait(retry_after);
                let log = format!("retrying in {wait:.1?}: {reason}");
                match self.retry.failures {
                    5 => tracing::warn!(resource = %self.resource, "{log} (5 failures in a row)"),
                    _ => tracing::debug!(resource = %self.resource, "{log}"),
                }
                (Input::Interrupted, Some(wait))
            }
        };
        let (emits, next) = step(state, input);
        self.write(emits).await?;
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        Some(next)
    }

    /// Sends what a step emitted to the writer; `None` when the writer is gone.
    async fn write(&mut self, emits: Vec<Emit<'_>>) -> Option<()> {
        for emit in emits {
            let ts = Timestamp::now();
            let message = match emit {
                Emit::Object { event, object } => match self.stored_json(event, object) {
                    Ok(json) => Message::Object {
                        ts,
                        event,
                        resource: Arc::clone(&self.resource),
                        json,
                    },
                    // Never written unredacted: the record is lost, and a GAP says so.
                    Err(why) => self.gap(
                        ts,
                        format!("an object could not be redacted and was not recorded: {why}"),
                    ),
                },
                Emit::Synced { resource_version } => {
                    if let Some(synced) = self.synced.take() {
                        let _ = synced.try_send(());
                    }
                    Message::Synced {
                        ts,
                        resource: Arc::clone(&self.resource),
                        resource_version,
                    }
                }
                Emit::Gap { reason } => {
                    tracing::warn!(resource = %self.resource, "watch gap: {reason}");
                    self.gap(ts, reason)
                }
            };
            self.sender.send(message).await.ok()?;
        }
        Some(())
    }

    fn gap(&self, ts: Timestamp, reason: String) -> Message {
        Message::Gap {
            ts,
            resource: Arc::clone(&self.resource),
            reason,
        }
    }

    /// The object as stored: `apiVersion`/`kind` filled in (list items lack them), covered
    /// values redacted. Watch events arrive whole and are copied without another parse.
    /// `Err` when the object could not be redacted: it must then not be written at all.
    fn stored_json(&self, event: EventType, object: &RawValue) -> Result<Box<RawValue>, String> {
        let info = &self.target.info;
        let redact = self
            .target
            .redactor
            .covers(&info.group, &info.kind, &info.resource);
        let needs_type = event == EventType::Listed
            && serde_json::from_str::<Head>(object.get()).map_or(true, |head| head.kind.is_none());
        if !redact && !needs_type {
            return Ok(object.to_owned());
        }
        let mut json = if needs_type {
            with_type_meta(object.get(), &self.target.api_version(), &info.kind)
        } else {
            object.get().to_string()
        };
        if redact {
            let redacted = self
                .target
                .redactor
                .redact(&json, &info.group, &info.kind, &info.resource)
                .map_err(|err| err.to_string())?;
            json = redacted.unwrap_or(json);
        }
        RawValue::from_string(json).map_err(|err| err.to_string())
    }
}

/// Inserts `"apiVersion"` and `"kind"` at the front of an object's JSON text.
fn with_type_meta(text: &str, api_version: &str, kind: &str) -> String {
    let rest = text
        .trim_start()
        .strip_prefix('{')
        .unwrap_or(text)
        .trim_start();
    let separator = if rest.starts_with('}') { "" } else { "," };
    format!(
        "{{\"apiVersion\":{},\"kind\":{}{separator}{rest}",
        serde_json::Value::from(api_version),
        serde_json::Value::from(kind)
    )
}

fn watch_input<'a>(line: &WatchLine<'a>) -> Input<'a> {
    let head: Head = serde_json::from_str(line.object.get()).unwrap_or_default();
    let resource_version = head.metadata.resource_version;
    match line.event_type.as_str() {
        "BOOKMARK" => match resource_version {
            Some(resource_version) => Input::Bookmark { resource_version },
            None => Input::Interrupted,
        },
        "ERROR" if head.code == Some(410) => Input::CannotResume {
            reason: format!("410 Gone: {}", head.message.unwrap_or_default()),
        },
        "ERROR"
            if head
                .message
                .as_deref()
                .is_some_and(|m| m.contains("Too large resource version")) =>
        {
            Input::CannotResume {
                reason: Failure::TooLarge(head.message.unwrap_or_default()).describe(),
            }
        }
        "ERROR" => Input::Interrupted,
        other => match EventType::from_type(other) {
            Some(event) if event != EventType::Listed => Input::Event {
                event,
                object: line.object,
                resource_version,
            },
            _ => Input::Interrupted,
        },
    }
}

/// Checks that the resource may be listed (a one-item list); the reason when it may not.
pub async fn probe(api: &Api, target: &Target) -> Result<(), String> {
    match api
        .get(&target.query(&[("limit", "1".to_string())]), MAX_PAGE_BYTES)
        .await
    {
        Err(
            failure @ (Failure::Unauthorized(_) | Failure::Forbidden(_) | Failure::NotFound(_)),
        ) => Err(failure.describe()),
        // Anything else (a transient failure) is retried by the watcher itself.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_items_get_their_type_filled_in_front() {
        let filled = with_type_meta(r#"{"metadata":{"name":"a"}}"#, "apps/v1", "Deployment");
        assert_eq!(
            filled,
            r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"}}"#
        );
        let value: serde_json::Value =
            serde_json::from_str(&with_type_meta("{}", "v1", "Pod")).unwrap();
        assert_eq!(value["kind"], "Pod");
    }

    #[test]
    fn an_error_line_with_410_is_expired_and_a_bookmark_moves_the_version() {
        let line: WatchLine<'_> = serde_json::from_str(
            r#"{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version: 5 (9)"}}"#,
        )
        .unwrap();
        assert!(
            matches!(watch_input(&line), Input::CannotResume { reason } if reason.starts_with("410 Gone: too old"))
        );
        let bookmark: WatchLine<'_> = serde_json::from_str(
            r#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"77"}}}"#,
        )
        .unwrap();
        assert!(
            matches!(watch_input(&bookmark), Input::Bookmark { resource_version } if resource_version == "77")
        );
    }

    #[test]
    fn paths_follow_the_group_and_namespace() {
        let target = Target {
            info: ResourceInfo {
                group: "apps".into(),
                version: "v1".into(),
                resource: "deployments".into(),
                kind: "Deployment".into(),
                namespaced: true,
            },
            namespace: Some("shop".into()),
            selector: Some("app=web,tier!=db".into()),
            redactor: Arc::new(Redactor::new(&crate::redact::RedactSettings::default()).unwrap()),
        };
        assert_eq!(
            target.query(&[("limit", "500".into())]),
            "/apis/apps/v1/namespaces/shop/deployments?limit=500&labelSelector=app%3Dweb%2Ctier%21%3Ddb"
        );
    }
}
