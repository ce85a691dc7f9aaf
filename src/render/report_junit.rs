//! JUnit XML of `kblame report`, for CI servers' test views (issue 14): one `testsuite` per
//! namespace, one `testcase` per workload judged, a failed rollout a `<failure>` whose message
//! is the blame and whose text is the evidence.
//!
//! Written with `quick-junit` and valid against the Jenkins xUnit plugin's `junit-10.xsd`, the
//! schema CI servers take as the reference (tests/data/junit-10.xsd). One attribute is taken
//! out after quick-junit writes: it always puts `skipped` on the root `<testsuites>`, a nextest
//! extension that junit-10.xsd does not declare, so Jenkins' xUnit plugin rejects the file.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use jiff::civil::Date;
use jiff::Timestamp;
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

use super::report::{
    attribution_line, change_headline, change_subject, confidence_word, group_line, object_name,
    verdict_text,
};
use super::rollout::line_note;
use super::value::{one_line, shorten_pair};
use super::{day_of, when};
use crate::graph::{Change, ObjectRef};
use crate::query::report::{Report, WorkloadReport};

/// How long each old and new value of the blamed field may be in a failure message.
const MAX_VALUE: usize = 80;

/// Writes the report as JUnit XML. A `failed` workload is a `<failure>`; a `failing` one is a
/// failure only when `failing_fails` (`--fail-on failing`), else a passing testcase whose
/// `system-out` says its state, so the test view and the exit code agree.
pub fn junit<W: Write>(report: &Report, failing_fails: bool, out: &mut W) -> io::Result<()> {
    let day = report.trace.start.map(day_of);
    let mut suites: BTreeMap<&str, Vec<TestCase>> = BTreeMap::new();
    for w in &report.workloads {
        let case = listed_case(report, w, failing_fails, day);
        suites.entry(&w.object.namespace).or_default().push(case);
    }
    for object in &report.healthy_unchanged_objects {
        suites
            .entry(&object.namespace)
            .or_default()
            .push(healthy_case(object));
    }
    // With no workload at all the trace's warnings still need a suite to be said in.
    if suites.is_empty() {
        suites.insert(report.namespace.as_deref().unwrap_or(""), Vec::new());
    }
    let mut junit = quick_junit::Report::new("kblame report");
    junit.set_time(elapsed(report.since, report.until));
    for (namespace, cases) in suites {
        junit.add_test_suite(suite(report, namespace, cases));
    }
    let xml = junit.to_string().map_err(io::Error::other)?;
    // Quick-junit drops the other characters XML forbids; these two it lets through.
    let xml = xml.replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}");
    without_root_skipped(&xml, out)
}

fn suite(report: &Report, namespace: &str, cases: Vec<TestCase>) -> TestSuite {
    let name = match namespace {
        "" => "(cluster)",
        namespace => namespace,
    };
    let mut suite = TestSuite::new(name);
    if let Some(since) = chrono_time(report.since) {
        suite.set_timestamp(since);
    }
    suite.set_time(elapsed(report.since, report.until));
    let trace = &report.trace;
    suite.add_properties([
        Property::new("trace", &trace.name),
        Property::new("trace.whole", trace.whole.to_string()),
        Property::new("window.since", report.since.to_string()),
        Property::new("window.until", report.until.to_string()),
    ]);
    suite.add_test_cases(cases);
    // CI shows a suite's system-err beside its tests: what the trace cannot show goes there.
    let warnings: Vec<&str> = trace
        .warnings
        .iter()
        .chain(&report.warnings)
        .map(|w| w.as_str())
        .collect();
    if !warnings.is_empty() {
        suite.set_system_err(lines(warnings.iter().map(|w| format!("warning: {w}"))));
    }
    suite
}

/// A listed workload: a failure, or a passing testcase that says its state.
fn listed_case(
    report: &Report,
    w: &WorkloadReport,
    failing_fails: bool,
    day: Option<Date>,
) -> TestCase {
    let fails = w.status == "failed" || (w.status == "failing" && failing_fails);
    let status = match fails {
        true => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(blame_line(w))
                .set_type(w.status)
                .set_description(body(w, day));
            status
        }
        false => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(case_name(&w.object), status);
    case.set_classname(class_name(&w.object))
        .set_time(elapsed(started(w, report.since), report.until));
    if !fails {
        let mut state = body(w, day);
        if w.status == "failing" {
            state = format!("failing, not a failure: only --fail-on failing makes it one\n{state}");
        }
        case.set_system_out(state);
    }
    case
}

/// A workload healthy at the end and unchanged in the window: it passed and took no time.
fn healthy_case(object: &ObjectRef) -> TestCase {
    let mut case = TestCase::new(case_name(object), TestCaseStatus::success());
    case.set_classname(class_name(object))
        .set_time(Duration::ZERO);
    case
}

/// `Deployment/web`.
fn case_name(object: &ObjectRef) -> String {
    format!("{}/{}", object.kind, object.name)
}

/// `shop.deployment`: the namespace, then the kind (the kind alone for a cluster-scoped
/// workload). Jenkins splits a classname at its last dot into package and class, so the
/// namespace becomes the package; neither part can hold a dot (namespaces are DNS labels).
fn class_name(object: &ObjectRef) -> String {
    match object.namespace.is_empty() {
        true => object.kind.to_lowercase(),
        false => format!("{}.{}", object.namespace, object.kind.to_lowercase()),
    }
}

/// When the rollout began, for its testcase's time: its blamed change or its last change in
/// the window, else the window's start.
fn started(w: &WorkloadReport, since: Timestamp) -> Timestamp {
    w.blamed_change
        .as_ref()
        .or(w.changes.last())
        .map_or(since, |change| change.time.max(since))
}

/// The failure message, one line: `revision 2 by kubectl (user alice) at 2026-11-26T16:02:11Z:
/// spec.template.spec.containers[name=web].image nginx:1.25 → nginx:1.26-rc1`, or the reason
/// when nothing is blamed.
fn blame_line(w: &WorkloadReport) -> String {
    match &w.blamed_change {
        Some(change) => change_line(change),
        None => single_line(&w.reason.clone().unwrap_or_else(|| verdict_text(w))),
    }
}

fn change_line(change: &Change) -> String {
    let (what, _) = change_subject(change);
    let manager = change.manager.as_deref().unwrap_or("an unknown manager");
    let user = match &change.request.user {
        Some(user) => format!(" (user {user})"),
        None => String::new(),
    };
    let time = change.time.strftime("%Y-%m-%dT%H:%M:%SZ");
    let mut line = format!("{what} by {manager}{user} at {time}");
    if let Some(field) = change.fields.first() {
        let (from, to) = shorten_pair(&one_line(&field.from), &one_line(&field.to), MAX_VALUE);
        line.push_str(&format!(": {} {from} → {to}", field.path));
    }
    if change.fields.len() > 1 {
        line.push_str(&format!(" (+{} more fields)", change.fields.len() - 1));
    }
    single_line(&line)
}

/// The evidence, as plain text like the text report's block for the workload: its verdict,
/// the blame with every field, its failing pods grouped, the evidence records, the root causes
/// and what still serves.
fn body(w: &WorkloadReport, day: Option<Date>) -> String {
    let mut out = vec![format!("{}  {}", object_name(w), verdict_text(w))];
    if let Some(since) = w.failing_since {
        out.push(format!("failing since {}", when(since, day)));
    }
    match (&w.blamed_change, w.changes.last()) {
        (Some(change), _) => blame_block(change, day, &mut out),
        (None, Some(last)) => out.push(format!(
            "{} change(s) in the window; last: {}",
            w.changes.len(),
            change_headline(last, day)
        )),
        (None, None) => {}
    }
    for group in &w.pod_groups {
        out.push(format!("failing pods: {}", group_line(group)));
    }
    for item in &w.evidence {
        let line = line_note(item.line);
        out.push(format!(
            "evidence: {} {}{line}",
            when(item.time, day),
            item.text
        ));
    }
    for cause in &w.root_causes {
        out.push(format!(
            "root cause: {} at {} [{} confidence]\n  evidence: {}",
            cause.summary,
            when(cause.time, day),
            confidence_word(cause.confidence),
            cause.evidence
        ));
    }
    if !w.serving_revisions.is_empty() {
        let serving: Vec<String> = w.serving_revisions.iter().map(i64::to_string).collect();
        out.push(format!("serving: revision {}", serving.join(", ")));
    }
    lines(out)
}

fn blame_block(change: &Change, day: Option<Date>, out: &mut Vec<String>) {
    out.push(format!("blamed: {}", change_headline(change, day)));
    for field in &change.fields {
        out.push(format!(
            "  {}  {} → {}",
            field.path,
            one_line(&field.from),
            one_line(&field.to)
        ));
    }
    out.push(format!("  {}", attribution_line(change)));
}

/// The lines, each ended by a newline.
fn lines(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items.into_iter().fold(String::new(), |mut text, line| {
        text.push_str(line.as_ref());
        text.push('\n');
        text
    })
}

/// Line breaks as spaces: a failure message is one line.
fn single_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// `to - from`, or zero when `to` is earlier.
fn elapsed(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from)).unwrap_or_default()
}

fn chrono_time(ts: Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().unsigned_abs())
}

/// `xml` with the root's `skipped` attribute taken out (see the module doc); all else is
/// copied byte for byte.
fn without_root_skipped<W: Write>(xml: &str, out: &mut W) -> io::Result<()> {
    let mut reader = Reader::from_str(xml);
    loop {
        let before = offset(reader.buffer_position())?;
        match reader.read_event().map_err(io::Error::other)? {
            Event::Start(root) if root.name().as_ref() == b"testsuites" => {
                let after = offset(reader.buffer_position())?;
                let mut tag = BytesStart::new("testsuites");
                for attr in root.attributes() {
                    let attr = attr.map_err(io::Error::other)?;
                    if attr.key.as_ref() != b"skipped" {
                        tag.push_attribute(attr);
                    }
                }
                out.write_all(&xml.as_bytes()[..before])?;
                Writer::new(&mut *out).write_event(Event::Start(tag))?;
                return out.write_all(&xml.as_bytes()[after..]);
            }
            Event::Eof => return out.write_all(xml.as_bytes()),
            _ => {}
        }
    }
}

fn offset(position: u64) -> io::Result<usize> {
    usize::try_from(position).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::report::{Coverage, FailingPod, PodGroup};
    use quick_xml::events::attributes::Attribute;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// A report of one failed workload whose every name and text is hostile to XML.
    fn hostile() -> Report {
        let nasty = "a<b&c\"d'e>f\u{1}\u{FFFF}";
        let object = ObjectRef {
            kind: "Deployment".into(),
            namespace: format!("ns-{nasty}"),
            name: format!("web-{nasty}"),
            uid: "uid-1".into(),
        };
        let pod = FailingPod {
            name: format!("pod-{nasty}"),
            uid: "uid-2".into(),
            revision: Some(2),
            phase: "Running".into(),
            restarts: 3,
            last_exit_code: Some(1),
            last_reason: Some("Error".into()),
            waiting_reason: Some("CrashLoopBackOff".into()),
            probe_failures: Vec::new(),
            scheduling: None,
        };
        let workload = WorkloadReport {
            object,
            verdict: "failed",
            status: "failed",
            reason: Some(format!("deadline <exceeded> & \"{nasty}\"\nsecond line")),
            failing_since: Some(ts("2026-11-26T16:02:20Z")),
            blamed_change: None,
            evidence: vec![crate::query::rollout::Evidence {
                time: ts("2026-11-26T16:02:20Z"),
                text: format!("pod <{nasty}> restarted ]]> 7×"),
                line: Some(51),
            }],
            root_causes: Vec::new(),
            pod_groups: vec![PodGroup {
                revision: Some(2),
                reason: "CrashLoopBackOff".into(),
                last_exit_code: Some(1),
                last_reason: Some("Error".into()),
                restarts: 3,
                probe_failures: Vec::new(),
                scheduling_message: Some(format!("0/3 nodes <{nasty}>")),
                pods: vec![pod.name.clone()],
            }],
            failing_pods: vec![pod],
            serving_revisions: vec![1],
            changes: Vec::new(),
        };
        Report {
            trace: Coverage {
                name: format!("trace-{nasty}.ndjson"),
                start: Some(ts("2026-11-26T16:00:00Z")),
                end: Some(ts("2026-11-26T16:15:00Z")),
                whole: false,
                ended: false,
                gaps: 1,
                relists: 0,
                warnings: vec![format!("watch gap <{nasty}>")],
            },
            since: ts("2026-11-26T16:00:00Z"),
            until: ts("2026-11-26T16:15:00Z"),
            namespace: None,
            verdict: "failed",
            workloads: vec![workload],
            healthy_unchanged: 0,
            healthy_unchanged_objects: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn render(report: &Report) -> String {
        let mut out = Vec::new();
        let written = junit(report, false, &mut out);
        assert!(written.is_ok(), "{written:?}");
        String::from_utf8(out).unwrap_or_default()
    }

    /// Every attribute value and text node, unescaped, in document order.
    fn parsed(xml: &str) -> Vec<String> {
        let mut reader = Reader::from_str(xml);
        let mut found = Vec::new();
        loop {
            let event = reader.read_event();
            assert!(event.is_ok(), "well-formed XML: {event:?}\n{xml}");
            match event.unwrap_or(Event::Eof) {
                Event::Start(tag) | Event::Empty(tag) => {
                    let attrs: Vec<Attribute> = tag.attributes().flatten().collect();
                    for attr in attrs {
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::default())
                            .map(|v| v.into_owned());
                        found.push(value.unwrap_or_else(|e| panic!("{e}")));
                    }
                }
                Event::Text(text) => {
                    found.push(text.decode().map(|t| t.into_owned()).unwrap_or_default())
                }
                Event::GeneralRef(r) => found.push(format!("&{};", String::from_utf8_lossy(&r))),
                Event::Eof => break,
                _ => {}
            }
        }
        found
    }

    /// Names and texts holding `<`, `&`, quotes, a control character and U+FFFF come out as
    /// well-formed XML that reads back as the same text, less what XML cannot hold.
    #[test]
    fn names_and_messages_hostile_to_xml_are_escaped() {
        let xml = render(&hostile());
        assert!(!xml.contains("a<b"), "{xml}");
        assert!(!xml.contains('\u{1}') && !xml.contains('\u{FFFF}'), "{xml}");
        let values = parsed(&xml);
        let clean = "a<b&c\"d'e>f\u{FFFD}";
        assert!(
            values.contains(&format!("Deployment/web-{clean}")),
            "{values:?}"
        );
        assert!(
            values.contains(&format!("ns-{clean}.deployment")),
            "{values:?}"
        );
        assert!(values.contains(&format!("ns-{clean}")), "{values:?}");
        // The message is one line.
        let message = format!("deadline <exceeded> & \"{clean}\" second line");
        assert!(values.contains(&message), "{values:?}");
    }

    /// The root carries the totals junit-10.xsd declares, and not quick-junit's `skipped`.
    #[test]
    fn the_root_has_totals_and_no_skipped_attribute() {
        let xml = render(&hostile());
        let root = xml.lines().nth(1).unwrap_or_default();
        assert_eq!(
            root,
            r#"<testsuites name="kblame report" tests="1" failures="1" errors="0" time="900.000">"#
        );
        assert!(
            xml.contains(r#"<testsuite name="ns-a&lt;b&amp;c&quot;d&apos;e&gt;f"#),
            "{xml}"
        );
    }

    /// A report with no workload still says the trace's warnings, in an empty suite.
    #[test]
    fn a_report_with_no_workload_keeps_its_warnings() {
        let mut report = hostile();
        report.workloads.clear();
        report.verdict = "ok";
        let xml = render(&report);
        assert!(xml.contains(r#"tests="0""#), "{xml}");
        assert!(xml.contains("<system-err>warning: watch gap &lt;"), "{xml}");
    }
}
