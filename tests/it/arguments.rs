//! Arguments as people type them: times relative to the end (`-1m`) and clock times as kblame
//! prints them, field paths in every documented notation, UID prefixes, `--color`, and hints
//! that point at what the trace holds.

use kblame::trace::EventType;
use serde_json::{json, Value};

use super::support::{fixture, kblame, pod, stderr, stdout, two_pods, write_trace};

fn seed() -> String {
    fixture("seed-demo.ndjson.zst").display().to_string()
}

fn ok(args: &[&str]) -> String {
    let out = kblame(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("JSON")
}

/// Runs `kblame ARGS` and expects exit `code`; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = kblame(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    stderr(&out)
}

#[test]
fn times_back_from_the_end_are_taken_as_written() {
    let seed = seed();
    // As the help shows it: `--until -1m`, not only `--until=-1m`.
    assert_eq!(
        ok(&["timeline", &seed, "--until", "-3m"]),
        ok(&["timeline", &seed, "--until=-3m"])
    );
    let since = json(&["timeline", &seed, "--since", "-1m", "-o", "json"]);
    for entry in since["entries"].as_array().unwrap() {
        assert!(
            entry["time"].as_str().unwrap() >= "2026-11-26T16:14:00",
            "{entry}"
        );
    }
    ok(&["blame", &seed, "deployment/web", "--at", "-1m"]);
    ok(&["tree", &seed, "deployment/web", "--at", "-10m"]);
    ok(&[
        "analyze",
        &seed,
        "--object",
        "deployment/web",
        "--at",
        "-14m",
    ]);
    ok(&[
        "diff",
        &seed,
        "deployment/web",
        "--from",
        "-14m",
        "--to",
        "-1m",
    ]);
}

#[test]
fn clock_times_mean_that_time_on_the_traces_day() {
    let seed = seed();
    assert_eq!(
        json(&[
            "tree",
            &seed,
            "deployment/web",
            "--at",
            "16:01:00",
            "-o",
            "json"
        ])["at"],
        "2026-11-26T16:01:00Z"
    );
    assert_eq!(
        ok(&[
            "analyze",
            &seed,
            "--object",
            "deployment/web",
            "--at",
            "16:01"
        ]),
        ok(&[
            "analyze",
            &seed,
            "--object",
            "deployment/web",
            "--at",
            "2026-11-26T16:01:00Z"
        ])
    );
    // A time kblame printed with fractions, and a date and time without a zone (UTC).
    ok(&["blame", &seed, "deployment/web", "--at", "16:12:12.034"]);
    ok(&[
        "blame",
        &seed,
        "deployment/web",
        "--at",
        "2026-11-26 16:12:12",
    ]);
    let err = fails(&["tree", &seed, "deployment/web", "--at", "09:00:00"], 1);
    assert!(err.contains("outside the trace"), "{err}");
}

#[test]
fn a_clock_time_in_a_trace_of_several_days_asks_for_the_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ndjson");
    let mut records = two_pods();
    // The trace runs from 2026-11-26T16:00 to 2026-11-27T22:00.
    records.push((
        30 * 3_600,
        EventType::Modified,
        pod("app-abc-11111", "uid-1", "rs-uid", 0),
    ));
    write_trace(&path, &records, false, false);
    let path = path.to_str().unwrap();
    let err = fails(&["tree", path, "pod/app-abc-11111", "--at", "17:00"], 2);
    assert!(
        err.contains("17:00")
            && err.contains("2026-11-26")
            && err.contains("2026-11-27")
            && err.contains("give the date"),
        "{err}"
    );
    // The one day on which the time falls inside the trace needs no date.
    let tree = json(&[
        "tree",
        path,
        "pod/app-abc-11111",
        "--at",
        "15:00",
        "-o",
        "json",
    ]);
    assert_eq!(tree["at"], "2026-11-27T15:00:00Z");
}

#[test]
fn every_documented_path_notation_works_in_blame_history() {
    let trace = fixture("rollout-undo.ndjson.zst").display().to_string();
    let history = |path: &str| {
        json(&[
            "blame",
            &trace,
            "deploy/search",
            "--history",
            path,
            "-o",
            "json",
        ])
    };
    let by_key = history("spec.template.spec.containers[name=search].image");
    assert_eq!(by_key.as_array().unwrap().len(), 2, "{by_key}");
    assert_eq!(
        history("spec.template.spec.containers[0].image"),
        by_key,
        "an index names the same container"
    );
    assert_eq!(
        history(r#"spec.template.spec["containers"][0]["image"]"#),
        by_key
    );
    assert_eq!(
        history("spec.template.spec.containers[name=search]"),
        by_key
    );
    let text = ok(&[
        "blame",
        &trace,
        "deploy/search",
        "--history",
        "spec.template.spec.containers[0].image",
    ]);
    assert!(
        !text.contains("did not change in the recorded versions"),
        "{text}"
    );
    assert!(text.contains("5.3.0 → "), "{text}");
}

/// A Deployment `web` with one ReplicaSet and two pods, and a StatefulSet `db` with pod `db-0`.
fn workloads() -> Vec<(i64, EventType, Value)> {
    let owner = |kind: &str, name: &str, uid: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": uid, "controller": true}]);
    let object = |kind: &str, name: &str, uid: &str, owners: Value| {
        json!({"apiVersion": if kind == "Pod" { "v1" } else { "apps/v1" }, "kind": kind,
            "metadata": {"name": name, "namespace": "demo", "uid": uid, "resourceVersion": "1",
                "creationTimestamp": "2026-11-26T15:00:00Z", "ownerReferences": owners},
            "spec": {}})
    };
    let mut pod_a = pod("web-abc-11111", "uid-p1", "uid-rs", 0);
    pod_a["metadata"]["ownerReferences"][0]["name"] = json!("web-abc");
    let mut pod_b = pod("web-abc-22222", "uid-p2", "uid-rs", 0);
    pod_b["metadata"]["ownerReferences"][0]["name"] = json!("web-abc");
    vec![
        (
            0,
            EventType::Listed,
            object("Deployment", "web", "uid-deploy", json!([])),
        ),
        (
            0,
            EventType::Listed,
            object(
                "ReplicaSet",
                "web-abc",
                "uid-rs",
                owner("Deployment", "web", "uid-deploy"),
            ),
        ),
        (0, EventType::Listed, pod_a),
        (0, EventType::Listed, pod_b),
        (
            0,
            EventType::Listed,
            object("StatefulSet", "db", "uid-sts", json!([])),
        ),
        (
            0,
            EventType::Listed,
            object(
                "Pod",
                "db-0",
                "uid-db0",
                owner("StatefulSet", "db", "uid-sts"),
            ),
        ),
    ]
}

#[test]
fn a_workload_named_as_a_pod_lists_its_pods() {
    let seed = seed();
    let err = fails(&["analyze", &seed, "--pod", "web"], 1);
    assert!(
        err.contains("no pod web in the trace; web is a deployment (shop/web)"),
        "{err}"
    );
    for pod in [
        "web-7cd8774fb8-znhz4",
        "web-6748484658-2v9qk",
        "web-6748484658-ksmpd",
    ] {
        assert!(err.contains(pod), "{err}");
    }
    assert!(err.contains("--object deployment/web"), "{err}");
    assert!(!err.contains("check TRACE -o json"), "{err}");
    let err = fails(&["analyze", &seed, "--pod", "web-6748484658"], 1);
    assert!(
        err.contains("web-6748484658 is a replicaset (shop/web-6748484658)")
            && err.contains("web-6748484658-pxzfj"),
        "{err}"
    );
}

#[test]
fn the_same_name_under_another_kind_is_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ndjson");
    write_trace(&path, &workloads(), true, false);
    let path = path.to_str().unwrap();
    let err = fails(&["blame", path, "deployment/db"], 1);
    assert!(
        err.contains("no deployment db in the trace; did you mean statefulset/db (in demo)?"),
        "{err}"
    );
    let err = fails(&["tree", path, "rs/web"], 1);
    assert!(err.contains("deployment/web (in demo)"), "{err}");
    let err = fails(&["analyze", path, "--pod", "db"], 1);
    assert!(
        err.contains("db is a statefulset (demo/db)") && err.contains("db-0"),
        "{err}"
    );
    let err = fails(&["analyze", path, "--pod", "web"], 1);
    assert!(
        err.contains("web-abc-11111") && err.contains("web-abc-22222"),
        "{err}"
    );
    // Near names of the asked kind come first, as before.
    let err = fails(&["analyze", path, "--pod", "web-abc-2222"], 1);
    assert!(err.contains("did you mean demo/web-abc-22222"), "{err}");
}

#[test]
fn a_uid_prefix_chooses_like_a_short_hash() {
    let seed = seed();
    let answer = json(&[
        "analyze",
        &seed,
        "--pod",
        "web-7cd8774fb8-znhz4",
        "--uid",
        "85881bbd",
        "-o",
        "json",
    ]);
    assert_eq!(answer["pod"]["uid"], "85881bbd-acff-4509-a482-0cd25c4ca867");
    let tree = json(&[
        "tree",
        &seed,
        "deployment/web",
        "--uid",
        "910a",
        "-o",
        "json",
    ]);
    assert_eq!(tree["root"]["name"], "web");
    ok(&["blame", &seed, "deployment/web", "--uid", "910a2dec"]);
    ok(&[
        "timeline",
        &seed,
        "--object",
        "deployment/web",
        "--uid",
        "910a2dec",
    ]);
    let err = fails(
        &[
            "analyze",
            &seed,
            "--pod",
            "web-7cd8774fb8-znhz4",
            "--uid",
            "ffff",
        ],
        1,
    );
    assert!(err.contains("no pod with UID ffff"), "{err}");
}

#[test]
fn an_ambiguous_uid_prefix_is_refused_with_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ndjson");
    let mut records = two_pods();
    records.push((
        40,
        EventType::Added,
        pod("app-abc-22222", "uid-3", "rs-uid", 0),
    ));
    write_trace(&path, &records, true, false);
    let path = path.to_str().unwrap();
    let err = fails(
        &["analyze", path, "--pod", "app-abc-22222", "--uid", "uid-"],
        2,
    );
    assert!(
        err.contains(
            "UID prefix uid- is ambiguous; give more of the UID:\n  pod demo/app-abc-22222 uid-2\n  pod demo/app-abc-22222 uid-3\n"
        ),
        "{err}"
    );
    // The name narrows the candidates: only one pod named app-abc-11111 starts with uid-.
    let one = json(&[
        "analyze",
        path,
        "--pod",
        "app-abc-11111",
        "--uid",
        "uid-",
        "-o",
        "json",
    ]);
    assert_eq!(one["pod"]["uid"], "uid-1");
}

fn has_colour(text: &str) -> bool {
    text.contains('\u{1b}')
}

#[test]
fn color_always_and_never_win_over_the_terminal_and_no_color() {
    let seed = seed();
    let run = |args: &[&str], no_color: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"));
        command.args(args).env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let out = command.output().expect("kblame runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let tree = ["tree", seed.as_str(), "deployment/web"];
    assert!(!has_colour(&run(&tree, None)), "a pipe gets no colour");
    let always = [&["--color", "always"][..], &tree].concat();
    assert!(has_colour(&run(&always, None)));
    assert!(
        has_colour(&run(&always, Some("1"))),
        "the flag wins over NO_COLOR"
    );
    // After the command, too.
    let after = [&tree[..], &["--color", "always"]].concat();
    assert!(has_colour(&run(&after, None)));
    let never = [&["--color", "never"][..], &tree].concat();
    assert!(!has_colour(&run(&never, None)));
    let out = kblame(&["--color", "sometimes", "tree", &seed, "deployment/web"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn on_a_terminal_an_empty_no_color_does_not_turn_colour_off() {
    // `script` gives the command a terminal; without it this test cannot run.
    let Ok(found) = std::process::Command::new("script")
        .arg("--version")
        .output()
    else {
        eprintln!("skipped: no `script` to give kblame a terminal");
        return;
    };
    assert!(found.status.success());
    let seed = seed();
    let on_terminal = |extra: &str, no_color: Option<&str>| {
        let command = format!(
            "{} {extra} tree {seed} deployment/web",
            env!("CARGO_BIN_EXE_kblame")
        );
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR");
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        let out = script.output().expect("script runs");
        stdout(&out)
    };
    assert!(has_colour(&on_terminal("", None)));
    assert!(
        has_colour(&on_terminal("", Some(""))),
        "an empty NO_COLOR counts as unset"
    );
    assert!(!has_colour(&on_terminal("", Some("1"))));
    assert!(!has_colour(&on_terminal("--color never", None)));
    assert!(has_colour(&on_terminal("--color always", Some("1"))));
}
