//! `kblame blame`: every line of an object's YAML credited to the change that last set it.

use kblame::history::path::FieldPath;
use kblame::query::at::parse_time;
use kblame::query::blame::{blame, BlameLine, BlameQuery, BlameReport, Source};
use kblame::query::select::ObjectQuery;
use kblame::query::{load, Loaded, QueryError};
use kblame::render::blame::{text, TimeStyle};
use kblame::trace::TraceSource;
use serde_json::json;

use super::support::fixture;

fn loaded(scenario: &str) -> Loaded {
    let path = fixture(&format!("{scenario}.ndjson.zst"));
    load(&TraceSource::Path(path)).expect("the fixture loads")
}

/// Blames `KIND/NAME` in a fixture, after `adjust` has set `--at` or `--history`.
fn try_blame(
    scenario: &str,
    spec: &str,
    adjust: impl FnOnce(&Loaded, &mut BlameQuery),
) -> Result<BlameReport, QueryError> {
    let mut loaded = loaded(scenario);
    let mut query = BlameQuery {
        object: ObjectQuery::parse(spec, &loaded.history)?,
        ..BlameQuery::default()
    };
    adjust(&loaded, &mut query);
    blame(&mut loaded, &query)
}

fn run(scenario: &str, spec: &str) -> BlameReport {
    try_blame(scenario, spec, |_, _| {}).expect("blame answers")
}

fn at(offset: &str) -> impl FnOnce(&Loaded, &mut BlameQuery) + '_ {
    move |loaded, query| {
        query.at = Some(parse_time(offset, &loaded.history.facts).expect("a time in the trace"))
    }
}

fn rendered(report: &BlameReport, color: bool, time: TimeStyle) -> String {
    let mut out = Vec::new();
    text(report, &mut out, color, time).expect("writes to memory");
    String::from_utf8(out).expect("UTF-8")
}

/// The line whose text, without indentation, is `text`.
fn line<'r>(report: &'r BlameReport, text: &str) -> &'r BlameLine {
    report
        .lines
        .iter()
        .find(|l| l.text.trim_start() == text)
        .unwrap_or_else(|| {
            panic!(
                "no line {text:?} in\n{}",
                rendered(report, false, TimeStyle::Full)
            )
        })
}

/// The rendered line (gutter and text) that ends with `text`.
fn text_line(rendered: &str, text: &str) -> String {
    rendered
        .lines()
        .find(|l| l.ends_with(&format!(" {text}")))
        .unwrap_or_else(|| panic!("no line ending {text:?} in\n{rendered}"))
        .to_string()
}

fn clock(line: &BlameLine) -> String {
    line.time
        .map(|t| t.strftime("%H:%M:%S").to_string())
        .unwrap_or_default()
}

#[test]
fn the_seed_demo_image_line_is_blamed_on_the_kubectl_apply_that_made_revision_2() {
    let report = run("seed-demo", "deployment/web");
    let image = line(&report, "image: nginx:1.26-rc1");
    assert_eq!(
        image.path.as_ref().map(ToString::to_string).as_deref(),
        Some("spec.template.spec.containers[name=web].image")
    );
    assert_eq!(image.manager.as_deref(), Some("kubectl-client-side-apply"));
    assert_eq!(clock(image), "16:02:11");
    assert_eq!(image.revision, Some(2));
    assert_eq!(image.source, Some(Source::History));
    assert_eq!(image.record_line, Some(30));
    let text = rendered(&report, false, TimeStyle::Clock);
    let gutter = text_line(&text, "image: nginx:1.26-rc1");
    assert!(
        gutter.starts_with("kubectl-client-side-apply  16:02:11  rev 2 "),
        "{gutter}"
    );
}

#[test]
fn a_value_unchanged_in_the_trace_is_credited_from_managed_fields_before_the_trace() {
    let report = run("seed-demo", "deployment/web");
    let replicas = line(&report, "replicas: 3");
    assert_eq!(
        replicas.manager.as_deref(),
        Some("kubectl-client-side-apply")
    );
    assert_eq!(replicas.source, Some(Source::ManagedFields));
    assert_eq!(clock(replicas), "15:21:00");
    assert_eq!(replicas.revision, Some(1));
    let text = rendered(&report, false, TimeStyle::Clock);
    assert!(text_line(&text, "replicas: 3").contains("before trace"));
    assert!(!text_line(&text, "image: nginx:1.26-rc1").contains("before trace"));
}

#[test]
fn status_lines_are_credited_to_the_controller_that_writes_status() {
    let report = run("seed-demo", "deployment/web");
    let observed = line(&report, "observedGeneration: 2");
    assert_eq!(observed.manager.as_deref(), Some("kube-controller-manager"));
    assert_eq!(observed.subresource.as_deref(), Some("status"));
    assert_eq!(observed.source, Some(Source::History));
    let conditions = FieldPath::parse("status.conditions").expect("a path");
    let condition_lines: Vec<&BlameLine> = report
        .lines
        .iter()
        .filter(|l| l.path.as_ref().is_some_and(|p| p.starts_with(&conditions)))
        .collect();
    assert_eq!(condition_lines.len(), 12);
    assert!(condition_lines
        .iter()
        .all(|l| l.manager.as_deref() == Some("kube-controller-manager")));
    let reason = line(&report, "reason: ProgressDeadlineExceeded");
    assert_eq!(reason.source, Some(Source::History));
}

#[test]
fn one_minute_in_the_image_is_still_1_25_set_before_the_trace() {
    let report = try_blame("seed-demo", "deployment/web", at("+1m")).expect("blame answers");
    let image = line(&report, "image: nginx:1.25");
    assert_eq!(image.manager.as_deref(), Some("kubectl-client-side-apply"));
    assert_eq!(image.source, Some(Source::ManagedFields));
    assert_eq!(image.revision, Some(1));
    assert!(report.lines.iter().all(|l| !l.text.contains("1.26-rc1")));
    let text = rendered(&report, false, TimeStyle::Clock);
    assert!(text_line(&text, "image: nginx:1.25").contains("before trace"));
}

#[test]
fn the_history_of_the_rolled_back_image_shows_the_rollout_then_the_undo() {
    let path = "spec.template.spec.containers[name=search].image";
    let report = try_blame("rollout-undo", "deployment/search", |_, query| {
        query.history = Some(FieldPath::parse(path).expect("a path"));
    })
    .expect("blame answers");
    let changes = report.history.as_ref().expect("history asked for");
    let summary: Vec<_> = changes
        .iter()
        .map(|c| {
            (
                c.manager.as_deref(),
                c.from.clone(),
                c.to.clone(),
                c.revision,
            )
        })
        .collect();
    let (old, new) = (
        json!("registry.example.com/catalog/search:5.2.0"),
        json!("registry.example.com/catalog/search:5.3.0"),
    );
    assert_eq!(
        summary,
        [
            (
                Some("kubectl-client-side-apply"),
                old.clone(),
                new.clone(),
                Some(2)
            ),
            (Some("kubectl"), new, old, Some(3)),
        ]
    );
    assert!(changes[0].time < changes[1].time && changes[0].line < changes[1].line);
    assert!(changes.iter().all(|c| c.path.to_string() == path));
    let text = rendered(&report, false, TimeStyle::Clock);
    assert!(text.starts_with(&format!("changes of {path} in deployment catalog/search")));
    assert!(text.contains("13:08:15  kubectl (Update)  "), "{text}");
}

#[test]
fn the_liveness_probe_path_changed_by_server_side_apply_goes_to_kubectl_apply() {
    let report = run("liveness-ssa", "deployment/session");
    let probe = line(&report, "path: /livez");
    let path = probe
        .path
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(path.ends_with(".livenessProbe.httpGet.path"), "{path}");
    assert_eq!(probe.manager.as_deref(), Some("kubectl"));
    assert_eq!(probe.operation.as_deref(), Some("Apply"));
    assert_eq!(probe.source, Some(Source::History));
    assert_eq!(probe.revision, Some(2));
}

#[test]
fn a_pod_is_blamed_too_with_status_from_the_kubelet_and_spec_from_its_creator() {
    let report = run("seed-demo", "pod/web-7cd8774fb8-znhz4");
    for status in ["phase: Running", "restartCount: 7", "ready: false"] {
        let blamed = line(&report, status);
        assert_eq!(blamed.manager.as_deref(), Some("kubelet"), "{status}");
        assert_eq!(blamed.source, Some(Source::History), "{status}");
    }
    let image = line(&report, "image: nginx:1.26-rc1");
    assert_eq!(image.manager.as_deref(), Some("kube-controller-manager"));
    assert_eq!(
        image.revision, None,
        "pods have no generation in this trace"
    );
    assert!(
        report
            .lines
            .iter()
            .all(|l| l.source != Some(Source::ManagedFields)),
        "a pod created inside the trace has nothing from before it"
    );
    let text = rendered(&report, false, TimeStyle::Relative);
    let restarts = text_line(&text, "restartCount: 7");
    let gutter: Vec<&str> = restarts.split_whitespace().take(4).collect();
    assert_eq!(gutter, ["kubelet", "3s", "ago", "│"], "{text}");
}

#[test]
fn an_unknown_object_is_not_found_and_a_time_before_its_first_record_does_not_apply() {
    let unknown = try_blame("seed-demo", "deployment/webb", |_, _| {});
    assert!(
        matches!(&unknown, Err(QueryError::NotFound { near, .. }) if near == &["shop/web"]),
        "{unknown:?}"
    );
    let early = try_blame("seed-demo", "pod/web-7cd8774fb8-znhz4", at("+1m"));
    assert!(
        matches!(early, Err(QueryError::NotApplicable(_))),
        "{early:?}"
    );
}

#[test]
fn each_line_serializes_with_the_contract_field_names() {
    let report = run("seed-demo", "deployment/web");
    let image = serde_json::to_value(line(&report, "image: nginx:1.26-rc1")).expect("JSON");
    for key in [
        "path",
        "text",
        "manager",
        "operation",
        "time",
        "revision",
        "generation",
        "source",
    ] {
        assert!(image.get(key).is_some(), "{key} missing from {image}");
    }
    assert_eq!(image["source"], "history");
    assert_eq!(image["time"], "2026-11-26T16:02:11.016Z");
    let structural = serde_json::to_value(line(&report, "spec:")).expect("JSON");
    assert_eq!(structural["path"], serde_json::Value::Null);
    let replicas = serde_json::to_value(line(&report, "replicas: 3")).expect("JSON");
    assert_eq!(replicas["source"], "managedFields");
}

#[test]
fn colour_is_per_manager_and_only_when_asked() {
    let report = run("seed-demo", "deployment/web");
    let plain = rendered(&report, false, TimeStyle::Clock);
    assert!(!plain.contains('\x1b'));
    let colored = rendered(&report, true, TimeStyle::Clock);
    let code = |text: &str| {
        let line = text_line(&colored, text);
        line.split('m').next().unwrap_or_default().to_string()
    };
    assert_eq!(code("image: nginx:1.26-rc1"), code("replicas: 3"));
    assert_ne!(code("image: nginx:1.26-rc1"), code("observedGeneration: 2"));
    assert!(code("replicas: 3").starts_with("\x1b["));
    assert!(
        text_line(&colored, "apiVersion: apps/v1").starts_with(' '),
        "unowned lines stay plain"
    );
}

#[test]
fn the_seed_demo_deployment_reads_like_git_blame() {
    let report = run("seed-demo", "deployment/web");
    insta::assert_snapshot!(
        "blame-seed-demo-deployment-web",
        rendered(&report, false, TimeStyle::Full)
    );
}

#[test]
fn the_blamed_yaml_of_every_fixture_object_reads_back_as_the_object() {
    let scenarios = [
        "seed-demo",
        "rollout-undo",
        "liveness-ssa",
        "oom-helm",
        "watch-gap",
    ];
    for scenario in scenarios {
        let mut loaded = loaded(scenario);
        let objects: Vec<(String, String)> = loaded
            .history
            .objects()
            .iter()
            .map(|o| (o.kind.clone(), o.uid.clone()))
            .collect();
        for (kind, uid) in objects {
            let object = ObjectQuery {
                kind,
                uid: Some(uid.clone()),
                ..ObjectQuery::default()
            };
            let query = BlameQuery {
                object,
                ..BlameQuery::default()
            };
            let report = blame(&mut loaded, &query).expect("blame answers");
            let yaml: String = report
                .lines
                .iter()
                .map(|l| format!("{}\n", l.text))
                .collect();
            let back: serde_json::Value = yaml_serde::from_str(&yaml).expect("valid YAML");
            let id = loaded.history.by_uid(&uid).expect("known UID");
            let version = loaded.history.object(id).last();
            let mut body: serde_json::Value = loaded.history.parse(version).expect("parses");
            if let Some(metadata) = body["metadata"].as_object_mut() {
                metadata.shift_remove("managedFields");
            }
            assert_eq!(back, body, "{scenario} {uid}:\n{yaml}");
        }
    }
}
