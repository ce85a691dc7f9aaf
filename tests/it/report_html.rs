//! `kblame report --format html` (issue 14, item 4): the lanes and marks the page embeds, that
//! it loads nothing from the network and escapes what the trace says, and — in a real headless
//! Chromium — that it loads without errors, draws the expected lanes and marks, follows a deep
//! link, and makes a screenshot kept under `target/test-artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::support::{kblame, stderr, write_trace};
use kblame::trace::EventType;

/// Renders `fixtures/NAME.ndjson.zst` as HTML into `dir`; the page's path, text and exit code.
fn render(trace: &Path, dir: &Path, args: &[&str]) -> (PathBuf, String, i32) {
    let stem = trace
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("trace")
        .replace(".ndjson.zst", "");
    let page = dir.join(format!("{stem}.html"));
    let page_arg = page.to_str().expect("a UTF-8 path");
    let mut all = vec![
        "report",
        trace.to_str().expect("a UTF-8 path"),
        "--format",
        "html",
        "-o",
        page_arg,
    ];
    all.extend_from_slice(args);
    let output = kblame(&all);
    let html = std::fs::read_to_string(&page)
        .unwrap_or_else(|e| panic!("the page was written ({e}): {}", stderr(&output)));
    (page, html, output.status.code().unwrap_or(-1))
}

fn fixture(name: &str) -> PathBuf {
    super::support::fixture(&format!("{name}.ndjson.zst"))
}

/// The JSON the page embeds.
fn data(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"kblame-data\">";
    let start = html.find(open).expect("the data block") + open.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("the data block is JSON")
}

fn workload<'a>(data: &'a Value, kind: &str, name: &str) -> &'a Value {
    data["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .find(|w| w["object"]["kind"] == kind && w["object"]["name"] == name)
        .unwrap_or_else(|| panic!("a lane for {kind}/{name}"))
}

fn revisions(lane: &Value) -> Vec<Option<i64>> {
    let all = lane["revisions"].as_array().expect("revisions");
    all.iter().map(|r| r["revision"].as_i64()).collect()
}

fn pod_names(revision: &Value) -> Vec<String> {
    let pods = revision["pods"].as_array().expect("pods");
    pods.iter()
        .map(|p| p["object"]["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn marks_of_kind<'a>(lane: &'a Value, kind: &str) -> Vec<&'a Value> {
    let marks = lane["marks"].as_array().expect("marks");
    marks.iter().filter(|m| m["kind"] == kind).collect()
}

#[test]
fn the_seed_demo_page_has_lanes_for_web_its_two_revisions_and_their_pods() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, code) = render(&fixture("seed-demo"), dir.path(), &[]);
    assert_eq!(code, 1, "the same exit code as the other formats");
    let data = data(&html);
    let web = workload(&data, "Deployment", "web");
    assert_eq!(web["status"], "failed");
    assert_eq!(revisions(web), [Some(1), Some(2)]);
    let old = &web["revisions"][0];
    assert_eq!(old["carrier"]["name"], "web-6748484658");
    assert_eq!(pod_names(old).len(), 3);
    let new = &web["revisions"][1];
    assert_eq!(pod_names(new), ["web-7cd8774fb8-znhz4"]);
    // The change at 16:02:11, with who made it, its diff, and the report's blame.
    let changes = marks_of_kind(web, "spec-change");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let change = changes[0];
    assert!(change["time"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-11-26T16:02:11")));
    assert_eq!(change["change"]["manager"], "kubectl-client-side-apply");
    assert_eq!(change["change"]["blamed"], true);
    assert_eq!(change["change"]["revision"], 2);
    assert_eq!(
        change["fields"],
        json!([{"path": "spec.template.spec.containers[name=web].image",
                "from": "nginx:1.25", "to": "nginx:1.26-rc1"}])
    );
    // The crash-looping pod: its seven restarts, and a bar that says it was failing.
    let pod = &new["pods"][0];
    assert_eq!(marks_of_kind(pod, "pod-restarted").len(), 7);
    let states: Vec<&Value> = pod["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| &s["state"])
        .collect();
    assert_eq!(states.first(), Some(&&json!("pending")));
    assert!(states.contains(&&json!("failing")), "{states:?}");
    assert!(data["gaps"].as_array().is_some_and(Vec::is_empty));
}

#[test]
fn the_page_loads_nothing_from_the_network() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for name in ["seed-demo", "operator-postgres", "watch-gap"] {
        let (_, html, _) = render(&fixture(name), dir.path(), &[]);
        let lower = html.to_lowercase();
        for needle in [
            "src=\"http",
            "src='http",
            "href=\"http",
            "href='http",
            "url(http",
            "@import",
            "<link",
            "<iframe",
        ] {
            assert!(!lower.contains(needle), "{name}: {needle}");
        }
        // Scripts are inline: none has a src.
        assert!(!lower.contains("<script src"), "{name}");
        assert!(lower.contains("content-security-policy"), "{name}");
        assert!(lower.contains("default-src 'none'"), "{name}");
    }
}

#[test]
fn a_stuck_statefulsets_page_has_a_lane_per_revision_with_its_ordinals() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, _) = render(&fixture("sts-stuck-ordinal"), dir.path(), &[]);
    let data = data(&html);
    let sts = workload(&data, "StatefulSet", "postgres");
    assert_eq!(sts["status"], "failing");
    assert_eq!(revisions(sts), [Some(1), Some(2)]);
    let carrier = &sts["revisions"][1]["carrier"];
    assert_eq!(carrier["kind"], "ControllerRevision");
    assert!(pod_names(&sts["revisions"][1]).contains(&"postgres-2".to_string()));
    let change = marks_of_kind(sts, "spec-change");
    assert!(
        change
            .iter()
            .any(|m| m["change"]["manager"] == "kubectl" && m["change"]["blamed"] == true),
        "{change:#?}"
    );
}

#[test]
fn an_operators_statefulset_lane_names_the_resource_that_controls_it() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, code) = render(&fixture("operator-postgres"), dir.path(), &[]);
    assert_eq!(code, 1);
    let data = data(&html);
    let cr = workload(&data, "PostgresCluster", "hippo");
    assert_eq!(cr["status"], "failed");
    let sts = workload(&data, "StatefulSet", "hippo-instance1-6ccb");
    assert_eq!(sts["owner"]["kind"], "PostgresCluster");
    assert_eq!(sts["owner"]["name"], "hippo");
    let changes = marks_of_kind(cr, "spec-change");
    assert!(
        changes.iter().any(|m| m["change"]["blamed"] == true),
        "{changes:#?}"
    );
}

#[test]
fn a_cronjobs_runs_are_its_lanes_with_their_pods() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, _) = render(&fixture("cronjob-template-break"), dir.path(), &[]);
    let data = data(&html);
    let cronjob = workload(&data, "CronJob", "invoice-export");
    let runs = cronjob["revisions"].as_array().expect("runs");
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| r["carrier"]["kind"] == "Job"),
        "{runs:#?}"
    );
    assert!(runs.iter().any(|r| !pod_names(r).is_empty()));
}

#[test]
fn a_watch_gap_is_a_shaded_span_from_the_break_to_the_relist() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, _) = render(&fixture("watch-gap"), dir.path(), &[]);
    let data = data(&html);
    let gaps = data["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert_eq!(gaps[0]["resource"], "v1/pods");
    assert!(gaps[0]["start"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-11-26T15:31:10")));
    assert!(gaps[0]["end"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-11-26T15:31:50")));
    // The partial trace is said first, before the verdict.
    let warning = html.find("class=\"warning\"").expect("a warning");
    let verdict = html.find("class=\"verdict").expect("a verdict");
    assert!(warning < verdict);
    let marks = data["marks"].as_array().expect("trace marks");
    assert!(marks.iter().any(|m| m["kind"] == "relist"), "{marks:#?}");
}

#[test]
fn the_window_and_namespace_flags_bound_the_timeline_as_they_bound_the_report() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (_, html, code) = render(
        &fixture("operator-postgres"),
        dir.path(),
        &["-n", "elsewhere"],
    );
    assert_eq!(code, 0, "nothing listed in that namespace");
    let elsewhere = data(&html);
    let lanes = elsewhere["workloads"].as_array();
    assert!(lanes.is_some_and(Vec::is_empty), "{elsewhere:#}");
    // At +1m the seed demo's change had not been made: web is there, without it.
    let (_, html, code) = render(&fixture("seed-demo"), dir.path(), &["--until", "+1m"]);
    assert_eq!(code, 0);
    let data = data(&html);
    assert!(data["end"]
        .as_str()
        .is_some_and(|t| t.starts_with("2026-11-26T16:01:00")));
    let web = workload(&data, "Deployment", "web");
    assert_eq!(
        web["status"],
        Value::Null,
        "healthy and unchanged: not listed"
    );
    assert!(marks_of_kind(web, "spec-change").is_empty());
    assert_eq!(revisions(web), [Some(1)]);
}

/// What a hostile trace puts in names, messages and values.
const HOSTILE: &str =
    "<img src=x onerror=\"document.documentElement.dataset.pwned=1\"></script><!--";

/// A failed Deployment whose name, condition message and Event message are hostile.
fn hostile_trace(path: &Path) {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": format!("web{HOSTILE}"), "namespace": "demo", "uid": "dep-uid",
            "resourceVersion": "5", "generation": 1, "creationTimestamp": "2026-11-26T15:00:00Z"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "app", "image": HOSTILE}]}}},
        "status": {"observedGeneration": 1, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": HOSTILE}]}});
    let event = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "demo", "uid": "ev-uid", "resourceVersion": "7",
            "creationTimestamp": "2026-11-26T16:00:30Z"},
        "involvedObject": {"kind": "Deployment", "namespace": "demo", "name": format!("web{HOSTILE}"), "uid": "dep-uid"},
        "reason": "Hostile", "message": HOSTILE, "type": "Warning", "count": 1,
        "firstTimestamp": "2026-11-26T16:00:30Z", "lastTimestamp": "2026-11-26T16:00:30Z"});
    write_trace(
        path,
        &[
            (0, EventType::Listed, deployment),
            (30, EventType::Added, event),
        ],
        true,
        false,
    );
}

#[test]
fn names_messages_and_values_from_the_trace_never_become_markup() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("hostile.ndjson");
    hostile_trace(&trace);
    let (_, html, _) = render(&trace, dir.path(), &["--fail-on", "never"]);
    assert!(!html.contains("<img"), "raw markup from the trace");
    assert!(!html.contains("<!--"), "a comment opened by the trace");
    // One </script> per script element: the data cannot end its own.
    assert_eq!(
        html.matches("</script>").count(),
        html.matches("<script").count()
    );
    let data = data(&html);
    let lane = &data["workloads"][0];
    assert_eq!(lane["object"]["name"], format!("web{HOSTILE}"));
    assert!(html.contains("&lt;img src=x"), "the name is shown, escaped");
}

// ---- in a real browser ----------------------------------------------------------------------

/// Chromium, or `None` (with a notice) when it is not installed; under CI (`CI` set) its
/// absence fails the test: `.ci/run` installs it.
fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = candidates.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but no chromium is installed (.ci/run installs it)"
        );
        eprintln!("notice: chromium is not installed; the headless-browser test is skipped");
    }
    found
}

/// What one headless Chromium run printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` (with `fragment`) plus `extra` flags, with a time limit.
fn headless(browser: &Path, page: &Path, fragment: &str, extra: &[String]) -> Run {
    let profile = tempfile::tempdir().expect("a profile dir");
    let url = format!("file://{}{fragment}", page.display());
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--window-size=1400,900",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().expect("chromium's output");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The `<html …>` and `<body …>` start tags of a DOM dump.
fn tag<'a>(dom: &'a str, name: &str) -> &'a str {
    let start = dom.find(&format!("<{name}")).expect("the tag");
    let end = start + dom[start..].find('>').expect("its end");
    &dom[start..=end]
}

/// The start tag of the drawn row of `lane`.
fn row_tag<'a>(dom: &'a str, lane: &str) -> &'a str {
    let at = dom
        .find(&format!("data-lane=\"{lane}\""))
        .unwrap_or_else(|| panic!("a row for {lane}"));
    let start = dom[..at].rfind("<div").expect("the row's start");
    let end = at + dom[at..].find('>').expect("the row's end");
    &dom[start..=end]
}

/// The page loaded with no error of any kind and finished drawing.
fn assert_clean(run: &Run) {
    let html = tag(&run.stdout, "html");
    assert!(html.contains("data-errors=\"[]\""), "page errors: {html}");
    assert!(
        !run.stdout.contains("data-pwned"),
        "a value from the trace ran as script"
    );
    let body = tag(&run.stdout, "body");
    assert!(body.contains("data-ready=\"true\""), "not ready: {body}");
    let console: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .collect();
    assert!(console.is_empty(), "console output: {console:#?}");
}

/// Where screenshots are kept: `target/test-artifacts/`.
fn artifacts() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("the artifacts dir");
    dir
}

#[test]
fn the_seed_demo_page_loads_in_headless_chromium_with_its_lanes_and_marks_drawn() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let (page, _, _) = render(&fixture("seed-demo"), dir.path(), &[]);
    let run = headless(&browser, &page, "", &["--dump-dom".to_string()]);
    assert_clean(&run);
    let dom = &run.stdout;
    for lane in [
        "Deployment/shop/web",
        "ReplicaSet/shop/web-6748484658",
        "ReplicaSet/shop/web-7cd8774fb8",
        "Pod/shop/web-7cd8774fb8-znhz4",
        "Pod/shop/web-6748484658-2v9qk",
    ] {
        assert!(
            dom.contains(&format!("data-lane=\"{lane}\"")),
            "no lane {lane}"
        );
    }
    assert!(dom.contains("data-revision=\"2\""));
    // The blamed change, drawn with its manager.
    let change = dom
        .find("data-kind=\"spec-change\" data-time=\"2026-11-26T16:02:11")
        .expect("the change at 16:02:11 is drawn");
    let mark_end = change + dom[change..].find('>').expect("the mark's end");
    let mark = &dom[change..mark_end];
    assert!(
        mark.contains("data-manager=\"kubectl-client-side-apply\""),
        "{mark}"
    );
    assert!(mark.contains("data-blamed=\"true\""), "{mark}");
    let restarts = dom.matches("data-kind=\"pod-restarted\"").count();
    assert!(restarts >= 5, "{restarts} restart marks drawn");
    assert!(dom.contains("data-state=\"failing\""));

    // A deep link opens and highlights the pod's lane.
    let fragment = "#obj=Pod/shop/web-7cd8774fb8-znhz4";
    let linked = headless(&browser, &page, fragment, &["--dump-dom".to_string()]);
    assert_clean(&linked);
    let body = tag(&linked.stdout, "body");
    assert!(
        body.contains("data-selected=\"Pod/shop/web-7cd8774fb8-znhz4\""),
        "{body}"
    );
    let row = row_tag(&linked.stdout, "Pod/shop/web-7cd8774fb8-znhz4");
    assert!(row.contains(" selected"), "{row}");

    // A screenshot, kept as a test artifact.
    let png = artifacts().join("report-seed-demo.png");
    let _ = std::fs::remove_file(&png);
    let shot = format!("--screenshot={}", png.display());
    headless(&browser, &page, "#obj=Deployment/shop/web", &[shot]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000);
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn a_hostile_trace_runs_no_script_in_headless_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("hostile.ndjson");
    hostile_trace(&trace);
    let (page, _, _) = render(&trace, dir.path(), &["--fail-on", "never"]);
    let run = headless(&browser, &page, "#obj=dep-uid", &["--dump-dom".to_string()]);
    assert_clean(&run);
    // An element made from the value would be serialized with its attributes quoted.
    assert!(
        !run.stdout.contains("<img src=\"x\""),
        "an img element was made"
    );
    assert!(tag(&run.stdout, "body").contains("data-selected=\"Deployment/demo/web"));
    assert!(run.stdout.contains("data-lane=\"Deployment/demo/web"));
}

/// A pod the report judges as its own workload (a bare e2e pod) has its own workload lane
/// holding its pod lane, so the table's deep link lands on it.
#[test]
fn a_pod_judged_as_its_own_workload_has_a_lane_with_its_pod() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let trace = dir.path().join("bare.ndjson");
    super::report::write_bare_pods_trace(&trace);
    let (_, html, code) = render(&trace, dir.path(), &[]);
    assert_eq!(code, 1);
    let data = data(&html);
    let runner = workload(&data, "Pod", "e2e-runner");
    assert_eq!(runner["status"], "failed");
    assert_eq!(pod_names(&runner["revisions"][0]), ["e2e-runner"]);
    let orphan = workload(&data, "Pod", "orphan-abc-1");
    assert_eq!(orphan["status"], "failing");
    assert_eq!(pod_names(&orphan["revisions"][0]), ["orphan-abc-1"]);
}
