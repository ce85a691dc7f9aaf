//! `image-digest`: one `image:` string that resolved to different digests, with the failures
//! only on the new one — a tag moved (`imagePullPolicy: Always`, or a node that had not cached
//! the old digest) under a template that did not change.
//!
//! The digest a container ran is its status's `imageID` (`pkg/kubelet/kuberuntime`
//! `toKubeContainerStatus` reports the image's digest reference). Pods compared are the ones
//! the question loaded: the pod's workload, at every revision.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use super::deps::digest_of;
use super::{Cause, CauseKind, Digests, Finder, Input};
use crate::graph::{Confidence, ObjectRef};
use crate::history::{History, ObjectId};

/// Image digest changes.
pub struct ImageDigest;

/// One pod's run of a container: the digest it ran, when first seen with it, and whether it
/// restarted after that.
struct Run {
    pod: ObjectId,
    digest: String,
    since: Timestamp,
    restarted: bool,
    /// How long it was seen running with that digest, in seconds.
    seconds: i64,
}

impl Finder for ImageDigest {
    fn restart_causes(&self, input: &Input<'_>) -> Vec<Cause> {
        let history = input.history;
        let mut containers: Vec<&str> = input
            .restarts
            .iter()
            .map(|r| r.container.as_str())
            .collect();
        containers.sort_unstable();
        containers.dedup();
        containers
            .into_iter()
            .filter_map(|container| {
                let first = input
                    .restarts
                    .iter()
                    .find(|r| r.container == container)
                    .map(|r| r.finished_at.unwrap_or(r.time).min(r.time))?;
                judge(history, input.pod, container, first)
            })
            .collect()
    }
}

/// The candidate for the failures of `container` in `pod` (the first at `first_failure`), if
/// its digest moved: stronger when the old digest's pods ran longer without a restart than the
/// pod lasted before failing, and when other pods on the new digest fail too.
fn judge(
    history: &History,
    pod: ObjectId,
    container: &str,
    first_failure: Timestamp,
) -> Option<Cause> {
    let image = image_of(history, pod, container)?;
    let own_digest = last_digest(history, pod, container)?;
    let peers: Vec<ObjectId> = super::workload_peers(history, pod)
        .into_iter()
        .filter(|&other| image_of(history, other, container).as_deref() == Some(image.as_str()))
        .collect();
    // A cause needs a peer whose run ended on another digest (`old` below): when none did,
    // skip reading every version of every pod (issue 15: most of a crash loop's answer).
    let moved = peers.iter().any(|&other| {
        last_digest(history, other, container).is_some_and(|digest| digest != own_digest)
    });
    if !moved {
        return None;
    }
    let own = run_of(history, pod, container)?;
    let runs: Vec<Run> = peers
        .into_iter()
        .filter_map(|other| run_of(history, other, container))
        .collect();
    let mut old: BTreeMap<&str, Vec<&Run>> = BTreeMap::new();
    for run in runs.iter().filter(|r| r.digest != own.digest) {
        old.entry(run.digest.as_str()).or_default().push(run);
    }
    // The other digest whose pods ran without a restart; none failing on it.
    let (from, healthy) = old
        .into_iter()
        .filter(|(_, runs)| runs.iter().all(|r| !r.restarted))
        .max_by_key(|(_, runs)| runs.len())?;
    let same: Vec<&Run> = runs.iter().filter(|r| r.digest == own.digest).collect();
    let failed_too = same.iter().filter(|r| r.restarted).count();
    let fine_on_new = same.len() - failed_too;
    if fine_on_new > 0 && failed_too == 0 {
        return None; // Others on the new digest run fine: not the digest.
    }
    let first_seen = same
        .iter()
        .map(|r| r.since)
        .chain([own.since])
        .min()
        .unwrap_or(own.since);
    let longest = healthy.iter().map(|r| r.seconds).max().unwrap_or(0);
    let lasted = own.since.duration_until(first_failure).as_secs();
    let confidence = match (fine_on_new, failed_too, longest > lasted) {
        (0, n, true) if n > 0 => Confidence::High,
        (0, _, true) => Confidence::Medium,
        _ => Confidence::Low,
    };
    let mut evidence = format!(
        "container {container} runs image {image} at digest {} (first seen {first_seen}), while {} pod(s) with the same image string ran digest {from} without a restart (e.g. {}, up to {})",
        own.digest,
        healthy.len(),
        history.object(healthy[0].pod).name,
        crate::render::duration_words(longest)
    );
    if failed_too > 0 {
        evidence.push_str(&format!(
            "; {failed_too} other pod(s) on the new digest restarted too"
        ));
    }
    Some(Cause {
        preemptor: None,
        kind: CauseKind::ImageDigest,
        summary: format!(
            "image {image} resolved to a new digest {}",
            short_digest(&own.digest)
        ),
        object: workload_of(history, pod),
        change: None,
        digests: Some(Digests {
            from: from.to_string(),
            to: own.digest.clone(),
        }),
        time: first_seen,
        confidence,
        evidence,
    })
}

/// The few fields of a pod version the finder reads: parsed without the rest of the body, as
/// it reads every version of every pod of the workload.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Slim {
    spec: SlimSpec,
    status: SlimStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SlimSpec {
    containers: Vec<SlimContainer>,
    init_containers: Vec<SlimContainer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SlimContainer {
    name: String,
    image: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SlimStatus {
    container_statuses: Vec<SlimContainerStatus>,
    init_container_statuses: Vec<SlimContainerStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SlimContainerStatus {
    name: String,
    #[serde(rename = "imageID")]
    image_id: String,
    restart_count: i64,
}

/// The `image:` of the container in the pod's spec.
fn image_of(history: &History, pod: ObjectId, container: &str) -> Option<String> {
    let body: Slim = history.parse(history.object(pod).first()).ok()?;
    body.spec
        .containers
        .into_iter()
        .chain(body.spec.init_containers)
        .find(|c| c.name == container)
        .map(|c| c.image)
        .filter(|image| !image.is_empty())
}

/// The digest a pod's container last reported: [`run_of`]'s `digest`, read from the newest
/// version back instead of from every version.
fn last_digest(history: &History, pod: ObjectId, container: &str) -> Option<String> {
    history
        .object(pod)
        .versions
        .iter()
        .rev()
        .find_map(|version| {
            let parsed = history.parse::<Slim>(version).ok()?;
            let status = parsed
                .status
                .init_container_statuses
                .iter()
                .chain(&parsed.status.container_statuses)
                .find(|s| s.name == container)?;
            digest_of(&status.image_id)
        })
}

/// The digest a pod's container ran (its last reported), when first reported, and whether the
/// pod restarted after that.
fn run_of(history: &History, pod: ObjectId, container: &str) -> Option<Run> {
    let object = history.object(pod);
    let mut found: Option<(String, Timestamp, i64)> = None;
    let mut restarted = false;
    let mut last_seen = None;
    for version in &object.versions {
        let Ok(parsed) = history.parse::<Slim>(version) else {
            continue;
        };
        let statuses = || {
            parsed
                .status
                .init_container_statuses
                .iter()
                .chain(&parsed.status.container_statuses)
        };
        let Some(status) = statuses().find(|s| s.name == container) else {
            continue;
        };
        let Some(digest) = digest_of(&status.image_id) else {
            continue;
        };
        let total: i64 = statuses().map(|s| s.restart_count).sum();
        match &found {
            Some((d, _, base)) if *d == digest => restarted |= total > *base,
            _ => found = Some((digest, version.ts, total)),
        }
        last_seen = Some(version.ts);
    }
    let (digest, since, _) = found?;
    // It ran from its creation (a pod listed at the start already ran that digest) until it
    // was deleted, else to the end of the trace.
    let started = match object.created {
        Some(created) if history.existed_at_start(pod) => created.min(since),
        _ => since,
    };
    let until = object
        .deletion_started()
        .or(history.facts.end)
        .or(last_seen)
        .unwrap_or(since)
        .max(started);
    Some(Run {
        pod,
        digest,
        since,
        restarted,
        seconds: started.duration_until(until).as_secs(),
    })
}

/// The top of the pod's controller chain as recorded (its workload), else the pod.
fn workload_of(history: &History, pod: ObjectId) -> ObjectRef {
    ObjectRef::of(history.object(super::workload_root(history, pod)))
}

/// `sha256:5e22eb008c9f`: a digest cut to 12 hex digits, as `docker images` shows one.
fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => format!("{algorithm}:{}", hex.get(..12).unwrap_or(hex)),
        None => digest.get(..19).unwrap_or(digest).to_string(),
    }
}
