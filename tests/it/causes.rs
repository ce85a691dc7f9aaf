//! Causes beyond the pod template (issue 12): a ConfigMap or Secret change the pod read, and the
//! cases where the right answer is "not this".

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{at, kblame, stderr, stdout, write_trace};

/// A bare pod created at `created` (seconds after the trace base) reading ConfigMap or Secret
/// `target` through `how` (`volume`, `subpath`, `env`), with `restarts` and the last run ending
/// at `finished` (seconds).
fn pod(name: &str, created: i64, kind: &str, how: &str, restarts: i64, finished: i64) -> Value {
    let (volume, env_from) = match (kind, how) {
        ("ConfigMap", "env") => (
            None,
            Some(json!([{"configMapRef": {"name": "app-config"}}])),
        ),
        ("Secret", "env") => (None, Some(json!([{"secretRef": {"name": "app-secret"}}]))),
        ("ConfigMap", _) => (
            Some(json!({"name": "config", "configMap": {"name": "app-config"}})),
            None,
        ),
        _ => (
            Some(json!({"name": "config", "secret": {"secretName": "app-secret"}})),
            None,
        ),
    };
    let mut container = json!({"name": "app", "image": "app:1"});
    if volume.is_some() {
        let mut mount = json!({"name": "config", "mountPath": "/etc/app"});
        if how == "subpath" {
            mount["subPath"] = json!("app.yaml");
        }
        container["volumeMounts"] = json!([mount]);
    }
    if let Some(env_from) = env_from {
        container["envFrom"] = env_from;
    }
    let last = match restarts {
        0 => json!({}),
        _ => json!({"terminated": {"exitCode": 1, "reason": "Error",
            "startedAt": at(finished - 5).to_string(), "finishedAt": at(finished).to_string()}}),
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "uid": format!("uid-{name}"),
            "resourceVersion": "10", "creationTimestamp": at(created).to_string(),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-rs",
                "uid": "uid-rs", "controller": true}]},
        "spec": {"containers": [container], "volumes": volume.into_iter().collect::<Vec<_>>()},
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "app:1",
            "imageID": "", "ready": restarts == 0, "restartCount": restarts, "lastState": last,
            "state": {"running": {"startedAt": at(finished + 10).to_string()}}}]}})
}

/// The ReplicaSet the pods share: recorded, so that a question about one pod reads the others.
fn replicaset() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "app-rs", "namespace": "demo", "uid": "uid-rs", "resourceVersion": "3",
            "creationTimestamp": "2026-11-26T15:00:00Z"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}}, "spec": {"containers": []}}}})
}

/// The ConfigMap (or Secret) with `value` in `app.yaml`, last written by `manager` at `time`.
fn config(kind: &str, value: &str, manager: &str, time: i64) -> Value {
    let name = match kind {
        "Secret" => "app-secret",
        _ => "app-config",
    };
    json!({"apiVersion": "v1", "kind": kind,
        "metadata": {"name": name, "namespace": "demo", "uid": format!("uid-{name}"),
            "resourceVersion": "5", "creationTimestamp": "2026-11-26T15:00:00Z",
            "managedFields": [{"manager": manager, "operation": "Update", "apiVersion": "v1",
                "time": at(time).to_string(), "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {".": {}, "f:app.yaml": {}}}}]},
        "data": {"app.yaml": value}})
}

/// `analyze --pod NAME -o json` and its text, on a trace of `records`.
fn analyze(records: &[(i64, EventType, Value)], name: &str) -> (Value, String) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("t.ndjson");
    write_trace(&path, records, true, false);
    let trace = path.to_str().expect("a UTF-8 path");
    let out = kblame(&["analyze", trace, "--pod", name, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&kblame(&["analyze", trace, "--pod", name]));
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        text,
    )
}

/// A pod running since before the trace reading the config as `how`, the config changed by
/// helm at 100 s, and the pod failing at `fails` s (first restart seen 2 s later).
fn scenario(kind: &str, how: &str, fails: i64) -> Vec<(i64, EventType, Value)> {
    vec![
        (
            0,
            EventType::Listed,
            config(kind, "log: info\n", "kubectl", -3600),
        ),
        (0, EventType::Listed, pod("web", -3600, kind, how, 0, -3590)),
        (
            100,
            EventType::Modified,
            config(kind, "log: trace\n", "helm", 100),
        ),
        (
            fails + 2,
            EventType::Modified,
            pod("web", -3600, kind, how, 1, fails),
        ),
    ]
}

fn kinds(report: &Value) -> Vec<(String, String)> {
    report["restart_causes"]
        .as_array()
        .expect("restart_causes")
        .iter()
        .map(|c| {
            let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
            (text(&c["kind"]), text(&c["confidence"]))
        })
        .collect()
}

#[test]
fn a_live_mounted_configmap_change_before_the_first_failure_is_the_cause() {
    let (report, text) = analyze(&scenario("ConfigMap", "volume", 138), "web");
    assert_eq!(
        kinds(&report),
        [("config".to_string(), "medium".to_string())]
    );
    let cause = &report["restart_causes"][0];
    assert_eq!(cause["object"]["kind"], "ConfigMap");
    assert_eq!(cause["object"]["name"], "app-config");
    assert_eq!(cause["time"], "2026-11-26T16:01:40Z");
    assert_eq!(cause["change"]["manager"], "helm");
    assert_eq!(cause["change"]["kind"], "data");
    assert_eq!(cause["change"]["fields"][0]["path"], "data[\"app.yaml\"]");
    assert_eq!(cause["change"]["fields"][0]["to"], "log: trace\n");
    let evidence = cause["evidence"].as_str().expect("evidence");
    assert!(
        evidence.contains("volume config (updated live)"),
        "{evidence}"
    );
    assert!(evidence.contains("38 s later"), "{evidence}");
    assert!(evidence.contains("(line 4)"), "{evidence}");
    assert!(
        text.contains(
            "most likely cause: ConfigMap demo/app-config data[\"app.yaml\"] changed at 16:01:40 [medium confidence]"
        ),
        "{text}"
    );
}

#[test]
fn a_config_change_after_the_failures_began_is_not_the_cause() {
    let mut records = scenario("ConfigMap", "volume", 138);
    // An earlier failure, before the change.
    records.insert(
        2,
        (
            52,
            EventType::Modified,
            pod("web", -3600, "ConfigMap", "volume", 1, 50),
        ),
    );
    records[4].2 = pod("web", -3600, "ConfigMap", "volume", 2, 138);
    let (report, _) = analyze(&records, "web");
    assert_eq!(kinds(&report), Vec::<(String, String)>::new());
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("nothing recorded explains the restarts"),
        "{warnings}"
    );
}

#[test]
fn a_change_the_running_container_never_read_is_not_the_cause() {
    // envFrom and subPath are read at container start: the running container kept the old data.
    for how in ["env", "subpath"] {
        let (report, _) = analyze(&scenario("ConfigMap", how, 138), "web");
        assert_eq!(kinds(&report), Vec::<(String, String)>::new(), "{how}");
    }
}

#[test]
fn a_configmap_the_pod_does_not_reference_is_not_the_cause() {
    let mut records = scenario("ConfigMap", "volume", 138);
    for (_, _, object) in records.iter_mut() {
        if object["kind"] == "ConfigMap" {
            object["metadata"]["name"] = json!("other-config");
        }
    }
    let (report, _) = analyze(&records, "web");
    assert_eq!(kinds(&report), Vec::<(String, String)>::new());
}

#[test]
fn a_secret_change_names_the_keys_never_the_values() {
    let (report, text) = analyze(&scenario("Secret", "volume", 138), "web");
    assert_eq!(
        kinds(&report),
        [("config".to_string(), "medium".to_string())]
    );
    let field = &report["restart_causes"][0]["change"]["fields"][0];
    assert_eq!(field["path"], "data[\"app.yaml\"]");
    assert_eq!(field["from"], "(hash)");
    assert_eq!(field["to"], "(hash changed)");
    assert!(!report.to_string().contains("log: trace"), "{report}");
    assert!(!text.contains("log: trace"), "{text}");
}

#[test]
fn other_readers_failing_too_or_old_readers_running_on_make_it_likely() {
    // A second live reader failed right after the change too.
    let mut records = scenario("ConfigMap", "volume", 138);
    records.push((
        0,
        EventType::Listed,
        pod("api", -3600, "ConfigMap", "volume", 0, -3590),
    ));
    records.push((
        150,
        EventType::Modified,
        pod("api", -3600, "ConfigMap", "volume", 1, 148),
    ));
    records.push((0, EventType::Listed, replicaset()));
    records.sort_by_key(|r| r.0);
    let (report, _) = analyze(&records, "web");
    assert_eq!(kinds(&report), [("config".to_string(), "high".to_string())]);
    let evidence = report["restart_causes"][0]["evidence"].to_string();
    assert!(
        evidence.contains("pod api, which also read the new data"),
        "{evidence}"
    );

    // A pod started after the change fails; one that read it at start before the change runs on.
    let records = vec![
        (0, EventType::Listed, replicaset()),
        (
            0,
            EventType::Listed,
            config("ConfigMap", "log: info\n", "kubectl", -3600),
        ),
        (
            0,
            EventType::Listed,
            pod("old", -3600, "ConfigMap", "env", 0, -3590),
        ),
        (
            100,
            EventType::Modified,
            config("ConfigMap", "log: trace\n", "helm", 100),
        ),
        (
            120,
            EventType::Added,
            pod("new", 120, "ConfigMap", "env", 0, 115),
        ),
        (
            140,
            EventType::Modified,
            pod("new", 120, "ConfigMap", "env", 1, 138),
        ),
    ];
    let (report, _) = analyze(&records, "new");
    assert_eq!(kinds(&report), [("config".to_string(), "high".to_string())]);
    let evidence = report["restart_causes"][0]["evidence"].to_string();
    assert!(evidence.contains("the pod started after it"), "{evidence}");
    assert!(
        evidence.contains("pod old, which read it only at start before the change, kept running"),
        "{evidence}"
    );
}

/// A pod of the shared ReplicaSet running `app:latest` at `digest`, with `restarts`.
fn digest_pod(name: &str, created: i64, digest: &str, restarts: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "demo", "uid": format!("uid-{name}"),
            "resourceVersion": "10", "creationTimestamp": at(created).to_string(),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app-rs",
                "uid": "uid-rs", "controller": true}]},
        "spec": {"containers": [{"name": "app", "image": "app:latest", "imagePullPolicy": "Always"}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "app:latest",
            "imageID": format!("registry.example.com/app@{digest}"), "ready": restarts == 0,
            "restartCount": restarts, "state": {"running": {"startedAt": at(created + 5).to_string()}}}]}})
}

/// Two pods on the old digest since an hour before the trace; `new` pods made at 200 s on the
/// new digest, each (name, restarts at the end).
fn moved_tag(new: &[(&str, i64)]) -> Vec<(i64, EventType, Value)> {
    let mut records = vec![
        (0, EventType::Listed, replicaset()),
        (
            0,
            EventType::Listed,
            digest_pod("old-1", -3600, "sha256:aaa", 0),
        ),
        (
            0,
            EventType::Listed,
            digest_pod("old-2", -3600, "sha256:aaa", 0),
        ),
    ];
    for (name, restarts) in new {
        records.push((
            200,
            EventType::Added,
            digest_pod(name, 200, "sha256:bbb", 0),
        ));
        if *restarts > 0 {
            records.push((
                260,
                EventType::Modified,
                digest_pod(name, 200, "sha256:bbb", *restarts),
            ));
        }
    }
    records.sort_by_key(|r| r.0);
    records
}

#[test]
fn a_moved_tag_is_blamed_when_only_the_new_digest_fails() {
    let (report, text) = analyze(&moved_tag(&[("new-1", 3)]), "new-1");
    assert_eq!(
        kinds(&report),
        [("image-digest".to_string(), "medium".to_string())],
        "{report}"
    );
    let cause = &report["restart_causes"][0];
    assert_eq!(
        cause["digests"],
        json!({"from": "sha256:aaa", "to": "sha256:bbb"})
    );
    assert_eq!(cause["object"]["kind"], "ReplicaSet");
    assert_eq!(cause["change"], Value::Null);
    assert!(
        text.contains("most likely cause: image app:latest resolved to a new digest sha256:bbb"),
        "{text}"
    );
    // A second pod on the new digest failing too makes it likely.
    let (report, _) = analyze(&moved_tag(&[("new-1", 3), ("new-2", 2)]), "new-1");
    assert_eq!(
        kinds(&report),
        [("image-digest".to_string(), "high".to_string())]
    );
}

#[test]
fn a_new_digest_others_run_fine_on_is_not_the_cause() {
    let (report, _) = analyze(&moved_tag(&[("new-1", 3), ("new-2", 0)]), "new-1");
    assert_eq!(kinds(&report), Vec::<(String, String)>::new());
}

#[test]
fn an_hpa_scale_is_explained_by_the_hpas_metrics_at_that_time() {
    use kblame::cause::scale::scale_cause;
    use kblame::graph::ChangeKind;
    use kblame::query::load;
    use kblame::trace::TraceSource;
    use kblame::workload::kinds::revisions::workload_history;

    let path = super::support::fixture("hpa-scale-up.ndjson.zst");
    let mut loaded = load(&TraceSource::Path(path)).expect("the fixture loads");
    let deployment = loaded
        .history
        .by_name("Deployment", Some("media"), "thumbnailer")
        .into_iter()
        .next()
        .expect("the Deployment");
    let history = workload_history(&loaded.history, &mut loaded.graph, deployment)
        .expect("a Deployment numbers revisions");
    let scale = history
        .changes
        .iter()
        .find(|c| c.kind == ChangeKind::Scale && !c.before_trace)
        .expect("the HPA's scale in the trace");
    let cause = scale_cause(&loaded.history, deployment, scale).expect("the HPA explains it");
    assert_eq!(cause.object.kind, "HorizontalPodAutoscaler");
    assert_eq!(cause.object.name, "thumbnailer");
    assert_eq!(serde_json::to_value(cause.kind).expect("JSON"), "scale");
    assert_eq!(
        serde_json::to_value(cause.confidence).expect("JSON"),
        "high"
    );
    assert!(
        cause.evidence.contains("wanted 4 replicas"),
        "{}",
        cause.evidence
    );
    assert!(cause.evidence.contains("% target"), "{}", cause.evidence);
    assert!(
        cause.evidence.contains("through /scale"),
        "{}",
        cause.evidence
    );

    // The pods the scale-up made carry it as their created.root_cause.
    let trace = super::support::fixture("hpa-scale-up.ndjson.zst");
    let trace = trace.to_str().expect("a UTF-8 path");
    let out = kblame(&[
        "analyze",
        trace,
        "--pod",
        "thumbnailer-bcb765fb5-qrgh6",
        "-o",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["created"]["reason"], "scale-up");
    assert_eq!(report["created"]["root_cause"]["kind"], "scale");
    assert_eq!(
        report["created"]["root_cause"]["object"]["kind"],
        "HorizontalPodAutoscaler"
    );
}

#[test]
fn a_timeline_shows_the_config_its_pods_read_but_not_what_they_do_not() {
    let trace = super::support::fixture("config-reload-crash.ndjson.zst");
    let trace = trace.to_str().expect("a UTF-8 path");
    for index in ["never", "always"] {
        let dir = tempfile::tempdir().expect("a temp dir");
        let copy = dir.path().join("t.ndjson.zst");
        std::fs::copy(trace, &copy).expect("copied");
        let copy = copy.to_str().expect("a UTF-8 path");
        let out = kblame(&[
            "--index",
            index,
            "timeline",
            copy,
            "--object",
            "deploy/cart",
            "-o",
            "json",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        let entries = report["entries"].as_array().expect("entries");
        let about = |name: &str| {
            entries
                .iter()
                .filter(|e| e["object"]["kind"] == "ConfigMap" && e["object"]["name"] == name)
                .count()
        };
        assert_eq!(about("cart-config"), 1, "{index}: {report}");
        assert_eq!(about("banner-config"), 0, "{index}");
    }
}
