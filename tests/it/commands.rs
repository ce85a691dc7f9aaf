//! The blame, tree, diff and timeline commands through the real binary: JSON output, plain text
//! when piped, and clear errors for unknown objects and bad times.

use serde_json::Value;

use super::support::{fixture, kblame, stderr, stdout};

fn seed() -> String {
    fixture("seed-demo.ndjson.zst").display().to_string()
}

fn json(args: &[&str]) -> Value {
    let out = kblame(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn blame_json_credits_the_image_line_to_the_apply_that_changed_it() {
    let seed = seed();
    let report = json(&["blame", &seed, "deployment/web", "-o", "json"]);
    let line = report
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["path"] == "spec.template.spec.containers[name=web].image")
        .expect("the image line");
    assert_eq!(line["manager"], "kubectl-client-side-apply");
    assert_eq!(line["operation"], "Update");
    assert_eq!(line["revision"], 2);
    assert_eq!(line["source"], "history");
}

#[test]
fn blame_history_lists_every_change_of_one_field() {
    let trace = fixture("rollout-undo.ndjson.zst").display().to_string();
    let path = "spec.template.spec.containers[name=search].image";
    let report = json(&[
        "blame",
        &trace,
        "deploy/search",
        "--history",
        path,
        "-o",
        "json",
    ]);
    let managers: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["kubectl-client-side-apply", "kubectl"]);
}

#[test]
fn piped_text_has_no_colour_codes() {
    let seed = seed();
    for args in [
        vec!["blame", seed.as_str(), "deployment/web"],
        vec!["tree", seed.as_str(), "deployment/web"],
        vec!["timeline", seed.as_str(), "--object", "deployment/web"],
        vec!["analyze", seed.as_str(), "--object", "deployment/web"],
    ] {
        let out = kblame(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            !stdout(&out).contains('\u{1b}'),
            "{args:?} printed colour into a pipe"
        );
    }
}

#[test]
fn tree_diff_and_timeline_answer_in_json() {
    let seed = seed();
    let tree = json(&["tree", &seed, "deployment/web", "--at", "+1m", "-o", "json"]);
    assert_eq!(tree["root"]["children"].as_array().unwrap().len(), 1);
    let diff = json(&[
        "diff",
        &seed,
        "deployment/web",
        "--from",
        "1",
        "--to",
        "2",
        "-o",
        "json",
    ]);
    assert!(diff["fields"].to_string().contains("nginx:1.26-rc1"));
    let timeline = json(&[
        "timeline", &seed, "-n", "shop", "--until", "+3m", "-o", "json",
    ]);
    assert!(timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "spec-change"));
}

#[test]
fn unknown_objects_and_bad_times_are_clear_errors_in_every_command() {
    let seed = seed();
    // The trace cannot answer: exit 1; arguments that cannot be understood: exit 2.
    let cases: [(Vec<&str>, &str, i32); 6] = [
        (
            vec!["blame", &seed, "deployment/nope"],
            "no deployment nope in the trace",
            1,
        ),
        (
            vec!["tree", &seed, "deployment/web", "--at", "+3h"],
            "outside the trace",
            1,
        ),
        (
            vec![
                "diff",
                &seed,
                "deployment/web",
                "--from",
                "1",
                "--to",
                "whenever",
            ],
            "is not a time",
            2,
        ),
        (
            vec!["timeline", &seed, "--object", "pod/nope"],
            "no pod nope in the trace",
            1,
        ),
        (
            vec!["blame", &seed, "deployment/web", "--at", "tomorrow"],
            "is not a time",
            2,
        ),
        (
            vec!["blame", &seed, "deployment/web", "--history", "spec.[["],
            "is not a field path",
            2,
        ),
    ];
    for (args, message, code) in cases {
        let out = kblame(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
}
