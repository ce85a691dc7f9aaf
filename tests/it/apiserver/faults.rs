//! Faults the fake API server injects: error statuses (with `Retry-After`), connections reset
//! in the middle of a body, streams that stall, bearer tokens that expire, and random chaos.

use std::collections::VecDeque;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, RETRY_AFTER};
use hyper::Response;
use serde_json::json;

use super::serve::{status_object, Body};

/// What goes wrong with a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status and a `metav1.Status` body, with `Retry-After` seconds.
    Status {
        /// The HTTP status code.
        code: u16,
        /// `Retry-After`, when the server sends one.
        retry_after: Option<u64>,
    },
    /// Send part of the body (half a list page, or a watch's events up to the middle of the
    /// next one), then reset the connection.
    ResetMidBody,
    /// Send the response headers (and for a list, half the body), then nothing, ever.
    Stall,
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// List requests (and their pages).
    List,
    /// Watch requests.
    Watch,
    /// Both.
    Any,
}

/// Faults waiting for requests, random chaos, and the bearer token the server accepts.
#[derive(Default)]
pub struct Faults {
    /// (resource key or None for any, verb, fault), used in order, each once.
    queue: VecDeque<(Option<String>, Verb, Fault)>,
    /// Random faults: a fault for this share of list and watch requests, and a reset inside
    /// this share of watch chunks.
    chaos: Option<Chaos>,
    /// Requests must carry `Authorization: Bearer TOKEN` when set.
    pub token: Option<String>,
    /// How many faults were injected, by kind.
    pub injected: std::collections::BTreeMap<String, u64>,
}

/// Random faults at given rates, from a seeded generator.
#[derive(Clone, Debug)]
pub struct Chaos {
    /// Share of list and watch requests that fail.
    pub request_rate: f64,
    /// Share of watch chunks cut in the middle (the connection reset there).
    pub chunk_rate: f64,
    /// Generator state.
    pub seed: u64,
}

impl Chaos {
    fn next(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed % 1_000_000) as f64 / 1_000_000.0
    }
}

impl Faults {
    /// Queues `fault` for the next `times` requests of `verb` on `resource` (None: any).
    pub fn push(&mut self, resource: Option<&str>, verb: Verb, fault: Fault, times: usize) {
        for _ in 0..times {
            self.queue
                .push_back((resource.map(String::from), verb, fault.clone()));
        }
    }

    /// Turns random chaos on (or off with `None`).
    pub fn set_chaos(&mut self, chaos: Option<Chaos>) {
        self.chaos = chaos;
    }

    /// The fault for a request of `verb` on `resource`, if any: a queued one, else chaos.
    pub fn take(&mut self, resource: &str, verb: Verb) -> Option<Fault> {
        let applies = |(r, v, _): &(Option<String>, Verb, Fault)| {
            r.as_deref().is_none_or(|r| r == resource) && (*v == Verb::Any || *v == verb)
        };
        let fault = match self.queue.iter().position(applies) {
            Some(at) => self.queue.remove(at).map(|(_, _, fault)| fault),
            None => self.chaos_fault(),
        };
        if let Some(fault) = &fault {
            *self.injected.entry(name(fault)).or_default() += 1;
        }
        fault
    }

    fn chaos_fault(&mut self) -> Option<Fault> {
        let chaos = self.chaos.as_mut()?;
        if chaos.next() >= chaos.request_rate {
            return None;
        }
        Some(match (chaos.next() * 5.0) as u32 {
            0 => Fault::Status {
                code: 429,
                retry_after: Some(1),
            },
            1 => Fault::Status {
                code: 500,
                retry_after: None,
            },
            2 => Fault::Status {
                code: 503,
                retry_after: None,
            },
            3 => Fault::ResetMidBody,
            _ => Fault::Stall,
        })
    }

    /// Whether to cut the next watch chunk in the middle.
    pub fn cut_chunk(&mut self) -> bool {
        let cut = match self.chaos.as_mut() {
            Some(chaos) => chaos.next() < chaos.chunk_rate,
            None => false,
        };
        if cut {
            *self.injected.entry("watch chunk cut".into()).or_default() += 1;
        }
        cut
    }

    /// Whether a request with this `Authorization` header value may pass.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        match &self.token {
            None => true,
            Some(token) => authorization == Some(format!("Bearer {token}").as_str()),
        }
    }
}

fn name(fault: &Fault) -> String {
    match fault {
        Fault::Status { code, .. } => format!("status {code}"),
        Fault::ResetMidBody => "reset mid-body".into(),
        Fault::Stall => "stall".into(),
    }
}

/// The response a status fault gives.
pub fn status_response(code: u16, retry_after: Option<u64>) -> Response<Body> {
    let (reason, message) = match code {
        401 => ("Unauthorized", "Unauthorized"),
        429 => (
            "TooManyRequests",
            "Too many requests, please try again later.",
        ),
        500 => (
            "InternalError",
            "Internal error occurred: etcdserver: leader changed",
        ),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        _ => ("", "injected failure"),
    };
    let mut status = status_object(code, reason, message);
    if let Some(seconds) = retry_after {
        status["details"] = json!({"retryAfterSeconds": seconds});
    }
    let bytes = Bytes::from(status.to_string());
    let body = http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::builder()
        .status(code)
        .header(CONTENT_TYPE, "application/json");
    if let Some(seconds) = retry_after {
        response = response.header(RETRY_AFTER, seconds.to_string());
    }
    response.body(body).expect("a valid response")
}

/// A 200 response whose body is the first half of `bytes`, then a reset (or, `stall`, silence).
pub fn cut_response(bytes: Vec<u8>, stall: bool) -> Response<Body> {
    let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
    let first = futures::stream::once(async move { Ok(Frame::data(half)) });
    let rest = futures::stream::once(async move {
        if stall {
            std::future::pending::<()>().await;
        }
        Err(std::io::Error::other("the test reset this connection"))
    });
    let body = StreamBody::new(futures::StreamExt::chain(first, rest));
    Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "application/json")
        .body(body.boxed())
        .expect("a valid response")
}

/// A watch that never sends anything.
pub fn stalled_watch() -> Response<Body> {
    let body = StreamBody::new(futures::stream::pending::<
        Result<Frame<Bytes>, std::io::Error>,
    >());
    Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "application/json")
        .body(body.boxed())
        .expect("a valid response")
}
