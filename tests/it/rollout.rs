//! `analyze --object deployment/NAME`: every fixture's verdict matches the simulator's ground
//! truth, revisions carry their evidence, and bad input is a clear error.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn trace(scenario: &str) -> String {
    fixture(&format!("{scenario}.ndjson.zst"))
        .display()
        .to_string()
}

fn rollout(scenario: &str, args: &[&str]) -> Value {
    let trace = trace(scenario);
    let mut all = vec!["analyze", trace.as_str()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    let out = kblame(&all);
    assert_eq!(out.status.code(), Some(0), "{scenario}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn revision(report: &Value, number: i64) -> &Value {
    report["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == number)
        .expect("the revision")
}

#[test]
fn every_fixture_deployment_gets_the_verdict_the_controllers_reached() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".expect.json"))
        else {
            continue;
        };
        let truth: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for deployment in truth["deployments"].as_array().unwrap() {
            let object = format!("deployment/{}", deployment["name"].as_str().unwrap());
            let uid = deployment["uid"].as_str().unwrap();
            let report = rollout(name, &["--object", &object, "--uid", uid]);
            assert_eq!(
                report["verdict"], deployment["final_outcome"],
                "{name} {object}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 16, "checked {checked} deployments");
}

#[test]
fn the_seed_demo_rollout_failed_with_its_evidence_and_revision_1_still_serves() {
    let report = rollout("seed-demo", &["--object", "deployment/web"]);
    assert_eq!(report["verdict"], "failed");
    let new = revision(&report, 2);
    assert_eq!(new["outcome"], "failed");
    assert_eq!(new["change"]["manager"], "kubectl-client-side-apply");
    let since = new["failing_since"].as_str().unwrap();
    assert!(
        since < "2026-11-26T16:03:00Z",
        "failing from the first crash, long before the deadline: {since}"
    );
    let reason = new["reason"].as_str().unwrap();
    assert!(
        reason.contains("CrashLoopBackOff") && reason.contains("ProgressDeadlineExceeded"),
        "{reason}"
    );
    assert!(new["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["line"].as_u64().unwrap() > 0));
    assert_eq!(revision(&report, 1)["outcome"], "superseded");
    assert_eq!(report["serving_revisions"], serde_json::json!([1]));
    insta::assert_snapshot!("rollout-seed-demo", {
        let out = kblame(&["analyze", &trace("seed-demo"), "--object", "deployment/web"]);
        stdout(&out)
    });
}

#[test]
fn before_the_change_the_same_deployment_was_complete() {
    let report = rollout("seed-demo", &["--object", "deploy/web", "--at", "+1m"]);
    assert_eq!(report["verdict"], "complete");
    assert_eq!(report["revisions"].as_array().unwrap().len(), 1);
    assert_eq!(report["at"], "2026-11-26T16:01:00.004Z");
}

#[test]
fn a_failing_revision_is_named_before_its_deadline_from_oom_kills() {
    let report = rollout("oom-helm", &["--object", "deployment/invoice-worker"]);
    assert_eq!(
        report["verdict"], "progressing",
        "the controller still says progressing"
    );
    let new = revision(&report, 2);
    assert_eq!(new["outcome"], "failing");
    assert!(new["reason"].as_str().unwrap().contains("OOMKilled"));
    assert_eq!(report["serving_revisions"], serde_json::json!([1]));
}

#[test]
fn a_rollback_revision_takes_over_the_old_replicaset_and_its_pods() {
    let report = rollout("rollout-undo", &["--object", "deployment/search"]);
    assert_eq!(report["verdict"], "complete");
    assert_eq!(report["serving_revisions"], serde_json::json!([3]));
    assert!(revision(&report, 1)["reason"]
        .as_str()
        .unwrap()
        .contains("now revision 3"));
    let bad = revision(&report, 2);
    assert!(bad["evidence"].to_string().contains("ErrImagePull"));
}

#[test]
fn an_unschedulable_replacement_is_failing_with_the_scheduler_message() {
    let report = rollout("preempted", &["--object", "deployment/etl-runner"]);
    let current = &report["revisions"][0];
    assert_eq!(current["outcome"], "failing");
    assert!(
        current["reason"]
            .as_str()
            .unwrap()
            .contains("FailedScheduling"),
        "{}",
        current["reason"]
    );
}

#[test]
fn a_replicaset_is_answered_for_its_deployment_and_a_pod_object_is_the_pod_query() {
    let report = rollout("seed-demo", &["--object", "rs/web-7cd8774fb8"]);
    assert_eq!(report["object"]["name"], "web");
    assert!(report["warnings"]
        .to_string()
        .contains("belongs to deployment web"));
    let pod = rollout("seed-demo", &["--object", "pod/web-7cd8774fb8-znhz4"]);
    assert_eq!(pod["created"]["reason"], "rollout");
}

#[test]
fn bad_objects_and_times_are_clear_errors() {
    let seed = trace("seed-demo");
    // The trace cannot answer: exit 1; arguments that cannot be understood: exit 2.
    let cases: [(&[&str], &str, i32); 5] = [
        (
            &["--object", "deployment/nope"],
            "no deployment nope in the trace",
            1,
        ),
        (&["--object", "web"], "is not KIND/NAME", 2),
        (
            &["--object", "deployment/web", "--at", "soon"],
            "is not a time",
            2,
        ),
        (
            &["--object", "deployment/web", "--at", "+2h"],
            "is outside the trace, which runs from",
            1,
        ),
        (
            &["--object", "service/web"],
            "no service web in the trace",
            1,
        ),
    ];
    for (args, message, code) in cases {
        let mut all = vec!["analyze", seed.as_str()];
        all.extend_from_slice(args);
        let out = kblame(&all);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_failed_rollout_is_dated_when_the_deadline_passed_not_when_it_was_judged() {
    let report = rollout("seed-demo", &["--object", "deployment/web"]);
    assert_eq!(report["at"], "2026-11-26T16:15:00.01Z", "judged at the end");
    let failed = &report["verdict_evidence"];
    assert_eq!(
        failed["time"], "2026-11-26T16:12:12Z",
        "the condition's lastTransitionTime"
    );
    assert_eq!(failed["line"], 90, "the record that first shows it");
    let deadline = revision(&report, 2)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["text"]
                .as_str()
                .unwrap()
                .starts_with("ProgressDeadlineExceeded")
        })
        .cloned()
        .expect("the deadline is evidence");
    assert_eq!(deadline["line"], 90);
    let text = stdout(&kblame(&[
        "analyze",
        &trace("seed-demo"),
        "--object",
        "deployment/web",
    ]));
    let headline = text.lines().next().unwrap();
    assert!(
        headline.starts_with("deployment shop/web  failed at 16:12:12: ")
            && headline.ends_with("(line 90)"),
        "{headline}"
    );
}

#[test]
fn no_evidence_line_is_zero_in_any_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".expect.json"))
        else {
            continue;
        };
        let truth: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for deployment in truth["deployments"].as_array().unwrap() {
            let object = format!("deployment/{}", deployment["name"].as_str().unwrap());
            let uid = deployment["uid"].as_str().unwrap();
            let report = rollout(name, &["--object", &object, "--uid", uid]);
            let evidence = report["revisions"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["evidence"].as_array().unwrap())
                .chain(Some(&report["verdict_evidence"]).filter(|v| !v.is_null()));
            for item in evidence {
                assert!(
                    item["line"].is_null() || item["line"].as_u64().is_some_and(|l| l > 0),
                    "{name} {object}: {item}"
                );
            }
        }
    }
}
