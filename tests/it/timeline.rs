//! `timeline`: the trace, or one object's subtree, told in time order with Events folded.

use jiff::Timestamp;
use kblame::query::select::ObjectQuery;
use kblame::query::timeline::{timeline, Entry, EntryKind, TimelineQuery, TimelineReport};
use kblame::query::{load, Loaded};
use kblame::trace::TraceSource;

use super::support::fixture;

fn loaded(scenario: &str) -> Loaded {
    let path = fixture(&format!("{scenario}.ndjson.zst"));
    load(&TraceSource::Path(path)).expect("the fixture loads")
}

fn object(loaded: &Loaded, spec: &str) -> ObjectQuery {
    ObjectQuery::parse(spec, &loaded.history).expect("KIND/NAME parses")
}

/// The timeline of `spec` (or the whole trace) in `scenario`, with its text.
fn story(scenario: &str, spec: Option<&str>) -> (TimelineReport, String) {
    let mut loaded = loaded(scenario);
    let query = TimelineQuery {
        object: spec.map(|s| object(&loaded, s)),
        ..TimelineQuery::default()
    };
    let report = timeline(&mut loaded, &query).expect("a timeline");
    (report.clone(), text(&report))
}

fn text(report: &TimelineReport) -> String {
    let mut out = Vec::new();
    kblame::render::timeline::text(report, &mut out, false).expect("written to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// The index of the first entry at or after `from` that matches.
fn find(entries: &[Entry], from: usize, what: impl Fn(&Entry) -> bool) -> usize {
    entries
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, e)| what(e))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no matching entry after #{from}: {entries:#?}"))
}

fn about(entry: &Entry, name: &str) -> bool {
    entry.object.as_ref().is_some_and(|o| o.name == name)
}

const NEW_POD: &str = "web-7cd8774fb8-znhz4";

#[test]
fn the_seed_demo_deployment_tells_the_crash_loop_in_order() {
    let (report, text) = story("seed-demo", Some("deployment/web"));
    let e = &report.entries;
    let apply = find(e, 0, |e| {
        e.kind == EntryKind::SpecChange
            && e.summary == "revision 2 by kubectl-client-side-apply (Update)"
            && e.fields.iter().any(|f| {
                f.path.to_string() == "spec.template.spec.containers[name=web].image"
                    && f.from == "nginx:1.25"
                    && f.to == "nginx:1.26-rc1"
            })
    });
    let scaled = find(e, apply, |e| {
        e.kind == EntryKind::Scale
            && about(e, "web-7cd8774fb8")
            && e.summary.contains("scaled 0 → 1")
    });
    let created = find(e, scaled, |e| {
        e.kind == EntryKind::PodCreated && about(e, NEW_POD)
    });
    let scheduled = find(e, created, |e| {
        e.kind == EntryKind::PodScheduled && e.summary == "scheduled to node-1"
    });
    let started = find(e, scheduled, |e| {
        e.kind == EntryKind::PodStarted && about(e, NEW_POD)
    });
    let restarted = find(e, started, |e| {
        e.kind == EntryKind::PodRestarted && e.summary.contains("exited 1 (Error)")
    });
    let backoff = find(e, restarted, |e| {
        e.kind == EntryKind::Event && e.summary.starts_with("Warning BackOff ×")
    });
    let deadline = find(e, backoff, |e| {
        e.kind == EntryKind::Condition && e.summary.contains("ProgressDeadlineExceeded")
    });
    assert!(
        e[backoff].until.is_some_and(|u| u > e[backoff].time),
        "{:?}",
        e[backoff]
    );
    let count: u32 = e[backoff].summary["Warning BackOff ×".len()..]
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(count > 1, "{}", e[backoff].summary);
    assert_eq!(
        e.iter()
            .filter(|e| e.kind == EntryKind::PodRestarted)
            .count(),
        7
    );
    assert_eq!(
        e.iter()
            .filter(|e| e.kind == EntryKind::Event && e.summary.contains("BackOff"))
            .count(),
        1,
        "the BackOff repeats are folded into one entry"
    );
    assert!(deadline > backoff);
    let start = find(e, 0, |e| e.kind == EntryKind::TraceStart);
    assert!(e[..start]
        .iter()
        .all(|e| e.summary.ends_with("before the trace began")));
    assert_eq!(e.last().map(|e| e.kind), Some(EntryKind::TraceEnd));
    insta::assert_snapshot!("seed-demo-deployment-web", text);
}

#[test]
fn entries_are_sorted_by_time_then_line() {
    let (report, _) = story("seed-demo", None);
    let keys: Vec<(Timestamp, u64)> = report
        .entries
        .iter()
        .filter(|e| !matches!(e.kind, EntryKind::TraceStart | EntryKind::TraceEnd))
        .map(|e| (e.time, e.line.unwrap_or(0)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn since_and_until_keep_only_the_entries_in_the_window() {
    let mut loaded = loaded("seed-demo");
    let since = kblame::query::at::parse_time("2026-11-26T16:03:00Z", &loaded.history.facts)
        .expect("a time");
    let until = kblame::query::at::parse_time("2026-11-26T16:06:00Z", &loaded.history.facts)
        .expect("a time");
    let query = TimelineQuery {
        object: Some(object(&loaded, "deployment/web")),
        since: Some(since),
        until: Some(until),
        namespace: None,
    };
    let report = timeline(&mut loaded, &query).expect("a timeline");
    assert!(!report.entries.is_empty());
    for entry in &report.entries {
        assert!(entry.time <= until, "{entry:?}");
        assert!(entry.until.unwrap_or(entry.time) >= since, "{entry:?}");
    }
    let kinds: Vec<EntryKind> = report.entries.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&EntryKind::PodRestarted), "{kinds:?}");
    assert!(
        !kinds.contains(&EntryKind::SpecChange),
        "the 16:02:11 apply is before the window"
    );
    assert!(!kinds.contains(&EntryKind::TraceStart) && !kinds.contains(&EntryKind::TraceEnd));
    assert!(
        report
            .entries
            .iter()
            .any(|e| e.kind == EntryKind::Event && e.time < since),
        "a folded Event that began earlier but repeats in the window stays"
    );
}

#[test]
fn the_watch_gap_shows_the_gap_and_the_relist() {
    let (report, text) = story("watch-gap", None);
    let gap = find(&report.entries, 0, |e| {
        e.kind == EntryKind::Gap && e.summary.starts_with("watch gap for v1/pods: 410 Gone")
    });
    let relist = find(&report.entries, gap, |e| {
        e.kind == EntryKind::Relist && e.summary.starts_with("re-list of v1/pods")
    });
    assert!(
        report.entries[relist]
            .summary
            .contains("1 object(s) missing"),
        "{text}"
    );
    let vanished = find(&report.entries, gap, |e| {
        e.kind == EntryKind::PodDeleted && about(e, "stock-api-5c49b78cc8-64qdj")
    });
    assert!(
        report.entries[vanished]
            .summary
            .contains("while the pod watch was down"),
        "{text}"
    );
    assert!(report.entries.iter().any(|e| {
        e.kind == EntryKind::PodCreated
            && about(e, "stock-api-5c49b78cc8-x56th")
            && e.summary.contains("first seen in the re-list")
    }));
    assert!(text.contains("watch gap for v1/pods: 410 Gone"), "{text}");
}

#[test]
fn a_cut_short_trace_says_so_at_its_end() {
    let (report, text) = story("cut-short", None);
    let last = report.entries.last().expect("entries");
    assert_eq!(last.kind, EntryKind::TraceEnd);
    assert!(
        last.summary.starts_with("trace cut short"),
        "{}",
        last.summary
    );
    assert!(text.contains("trace cut short: no END record"), "{text}");
    assert!(report.warnings.iter().any(|w| w.contains("no END record")));
}

#[test]
fn the_timeline_of_one_pod_holds_only_that_pod_and_its_events() {
    let (report, _) = story("seed-demo", Some(&format!("pod/{NEW_POD}")));
    let objects: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.object.is_some())
        .collect();
    assert!(objects.len() > 10, "{objects:#?}");
    assert!(objects.iter().all(|e| about(e, NEW_POD)), "{objects:#?}");
    assert!(objects.iter().any(|e| e.kind == EntryKind::Event));
    assert!(!objects.iter().any(|e| e.kind == EntryKind::SpecChange));
}

#[test]
fn an_unknown_object_is_a_not_found_error() {
    let mut loaded = loaded("seed-demo");
    let query = TimelineQuery {
        object: Some(object(&loaded, "deployment/webb")),
        ..TimelineQuery::default()
    };
    let error = timeline(&mut loaded, &query).expect_err("no such deployment");
    assert!(
        error.to_string().contains("did you mean shop/web?"),
        "{error}"
    );
}

#[test]
fn colour_is_plain_sgr_and_off_by_default() {
    let (report, plain) = story("seed-demo", Some(&format!("pod/{NEW_POD}")));
    assert!(!plain.contains('\x1b'));
    let mut out = Vec::new();
    kblame::render::timeline::text(&report, &mut out, true).expect("written");
    let colored = String::from_utf8(out).expect("UTF-8");
    assert!(
        colored.contains("\x1b[31mcontainer web restarted"),
        "{colored}"
    );
    assert!(colored.contains("\x1b[33mWarning BackOff"), "{colored}");
}

#[test]
fn the_manual_delete_timeline_reads_as_a_story() {
    let (report, text) = story("manual-delete", None);
    let deleting = find(&report.entries, 0, |e| {
        e.kind == EntryKind::PodDeleting && about(e, "frontend-6d7c989786-wkh9j")
    });
    find(&report.entries, deleting, |e| {
        e.kind == EntryKind::PodCreated && about(e, "frontend-6d7c989786-m8b75")
    });
    insta::assert_snapshot!("manual-delete", text);
}

#[test]
fn a_namespace_without_an_object_keeps_only_that_namespace_and_the_trace_wide_entries() {
    let mut loaded = loaded("preempted");
    let query = TimelineQuery {
        namespace: Some("checkout".to_string()),
        ..TimelineQuery::default()
    };
    let report = timeline(&mut loaded, &query).expect("a timeline");
    assert!(report.entries.iter().any(|e| e.object.is_some()));
    for entry in &report.entries {
        if let Some(object) = &entry.object {
            assert!(
                object.namespace == "checkout" || object.namespace.is_empty(),
                "{}",
                object.namespace
            );
        }
    }
}
