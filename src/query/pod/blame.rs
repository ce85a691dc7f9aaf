//! Restart blame: are the restarts the revision's fault? Compared with other revisions' pods.

use std::collections::BTreeMap;

use super::report::{RestartEvidence, RevisionInfo};
use super::Context;
use crate::graph::{Change, Confidence};
use crate::history::History;
use crate::render::duration_words;
use crate::workload::kinds::Peer;
use crate::workload::pod::{pod_at, running_since, total_restarts, Restart};

/// Blames the restarts on the revision's change when other revisions' pods ran without restarts.
pub(super) fn blame(
    context: &Context<'_>,
    restarts: &[Restart],
    before: &BTreeMap<String, i64>,
    revision: Option<&RevisionInfo>,
) -> (Option<Change>, Option<RestartEvidence>) {
    if restarts.is_empty() && before.is_empty() {
        return (None, None);
    }
    let peers = match (&context.facts.peers, revision) {
        (Ok(peers), Some(revision)) => Some((peers, revision)),
        (Err(why), _) => return (None, Some(unknown_blame(why))),
        (Ok(_), None) => None,
    };
    let Some((peers, revision)) = peers else {
        return (None, Some(unknown_blame("the pod's revision is not known")));
    };
    let Some(change) = revision.change.clone() else {
        return (
            None,
            Some(unknown_blame(
                "the change that made its revision is not known",
            )),
        );
    };
    let runs: Vec<PeerRun> = peers
        .iter()
        .filter_map(|peer| peer_run(context.history, peer))
        .collect();
    if runs.is_empty() {
        return (
            None,
            Some(unknown_blame(
                "no other revision's pods are in the trace to compare with",
            )),
        );
    }
    let restarted: Vec<&PeerRun> = runs.iter().filter(|r| r.restarts > 0).collect();
    if !restarted.is_empty() {
        let text = format!(
            "not blamed on the change: {} pod(s) of other revisions restarted too (e.g. {} of revision {})",
            restarted.len(),
            restarted[0].name,
            restarted[0].revision.map_or("?".to_string(), |n| n.to_string())
        );
        return (
            None,
            Some(RestartEvidence {
                confidence: Confidence::Medium,
                text,
            }),
        );
    }
    let longest = runs.iter().map(|r| r.seconds).max().unwrap_or(0);
    let first_restart = restarts.first().map(|r| r.time);
    let made = change.time;
    let quick = first_restart
        .map(|t| made.duration_until(t).as_secs())
        .unwrap_or(i64::MAX);
    let confidence = if longest > quick {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let text = format!(
        "{} ran up to {} without a restart",
        describe_peers(&runs, revision.number),
        duration_words(longest)
    );
    (Some(change), Some(RestartEvidence { confidence, text }))
}

/// "revision 1's 3 pod(s)", naming at most two revisions — the closest below this one first —
/// and counting the rest.
fn describe_peers(runs: &[PeerRun], this: Option<i64>) -> String {
    let mut by_revision: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for run in runs {
        *by_revision.entry(run.revision).or_insert(0) += 1;
    }
    let mut revisions: Vec<(Option<i64>, usize)> = by_revision.into_iter().collect();
    // Closest older revision first, then newer ones, then the rest by distance.
    revisions.sort_by_key(|(rev, _)| match (rev, this) {
        (Some(r), Some(t)) if *r < t => (0, t - r),
        (Some(r), Some(t)) => (1, r - t),
        _ => (2, 0),
    });
    let name = |(rev, n): &(Option<i64>, usize)| {
        format!(
            "revision {}'s {n} pod(s)",
            rev.map_or("?".to_string(), |r| r.to_string())
        )
    };
    let named: Vec<String> = revisions.iter().take(2).map(name).collect();
    let rest: Vec<&(Option<i64>, usize)> = revisions.iter().skip(2).collect();
    match rest.len() {
        0 => named.join(" and "),
        n => format!(
            "{} and {} pod(s) of {n} other revisions",
            named.join(", "),
            rest.iter().map(|(_, count)| count).sum::<usize>()
        ),
    }
}

fn unknown_blame(why: &str) -> RestartEvidence {
    RestartEvidence {
        confidence: Confidence::Low,
        text: format!("cannot tell what caused the restarts: {why}"),
    }
}

/// How long a pod of another revision was seen running, and how often it restarted meanwhile.
struct PeerRun {
    name: String,
    revision: Option<i64>,
    seconds: i64,
    restarts: i64,
}

fn peer_run(history: &History, peer: &Peer) -> Option<PeerRun> {
    let trace_end = history.facts.end;
    let object = history.object(peer.pod);
    let first = pod_at(history, object.first());
    let last = pod_at(history, object.last());
    let since = running_since(&first).or(object.created)?;
    // A pod still there at the end was watched until then: a restart would have been recorded.
    let until = match object.gone {
        None => trace_end.unwrap_or(object.last().ts),
        Some(_) => object.deletion_started().unwrap_or(object.last().ts),
    };
    let before = if object.existed_before_first_record() {
        total_restarts(&first)
    } else {
        0
    };
    Some(PeerRun {
        name: object.name.clone(),
        revision: peer.revision,
        seconds: since.duration_until(until).as_secs(),
        restarts: total_restarts(&last) - before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(revision: i64) -> PeerRun {
        PeerRun {
            name: format!("pod-{revision}"),
            revision: Some(revision),
            seconds: 60,
            restarts: 0,
        }
    }

    #[test]
    fn peers_name_the_closest_older_revision_first_and_count_the_rest() {
        let runs: Vec<PeerRun> = [1, 1, 2, 3, 5, 5, 6].into_iter().map(run).collect();
        assert_eq!(
            describe_peers(&runs, Some(4)),
            "revision 3's 1 pod(s), revision 2's 1 pod(s) and 5 pod(s) of 3 other revisions"
        );
        assert_eq!(describe_peers(&runs[..2], Some(2)), "revision 1's 2 pod(s)");
    }
}
