//! Tests of the simulator as a whole: determinism and the shape of every scenario's trace.

use serde_json::Value;

use super::scenarios::{all, Ending};

fn lines(trace: &[u8]) -> Vec<Value> {
    let text = zstd::stream::decode_all(trace).expect("fixture traces are valid zstd");
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every line is JSON"))
        .collect()
}

#[test]
fn the_same_scenario_produces_the_same_bytes_twice() {
    for scenario in all().iter().take(3) {
        let a = scenario.generate().expect("generates");
        let b = scenario.generate().expect("generates");
        assert_eq!(a.trace, b.trace, "{}", scenario.name);
        assert_eq!(a.truth, b.truth, "{}", scenario.name);
    }
}

#[test]
fn every_trace_starts_with_a_header_and_ends_with_end_unless_cut_short() {
    for scenario in all() {
        let fixture = scenario.generate().expect("generates");
        let lines = lines(&fixture.trace);
        assert_eq!(lines[0]["type"], "HEADER", "{}", scenario.name);
        let last = &lines[lines.len() - 1]["type"];
        let ending = (scenario.name == "cut-short").then_some(Ending::Abandon);
        if ending == Some(Ending::Abandon) {
            assert_ne!(last, "END", "{}", scenario.name);
        } else {
            assert_eq!(last, "END", "{}", scenario.name);
        }
        assert_eq!(
            fixture.records as usize,
            lines.len() - 1,
            "{}",
            scenario.name
        );
    }
}

#[test]
fn resource_versions_strictly_increase_after_the_initial_list() {
    for scenario in all() {
        let fixture = scenario.generate().expect("generates");
        let mut last_rv = 0u64;
        let mut last_ts = String::new();
        for line in lines(&fixture.trace).iter().skip(1) {
            let ts = line["ts"].as_str().unwrap_or_default().to_string();
            assert!(ts >= last_ts, "{}: ts went back at {ts}", scenario.name);
            last_ts = ts;
            if line["type"] == "LISTED" || line.get("object").is_none() {
                continue;
            }
            let rv: u64 = line["object"]["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .expect("objects carry a numeric resourceVersion");
            assert!(rv > last_rv, "{}: rv {rv} after {last_rv}", scenario.name);
            last_rv = rv;
        }
    }
}

#[test]
fn the_seed_demo_rollout_times_out_while_revision_one_keeps_serving() {
    let fixture = all()[0].generate().expect("generates");
    let d = &fixture.truth.deployments[0];
    assert_eq!(d.final_outcome, "failed");
    assert_eq!(d.revisions.len(), 2);
    let change = d.revisions[1]
        .change
        .as_ref()
        .expect("revision 2 has a change");
    assert_eq!(change.manager, "kubectl-client-side-apply");
    assert_eq!(
        change.fields,
        vec!["spec.template.spec.containers[name=web].image".to_string()]
    );
    let crashing: Vec<_> = fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.revision == 2)
        .collect();
    assert_eq!(crashing.len(), 1);
    assert!(crashing[0].restarts.len() >= 5);
    assert!(fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.revision == 1)
        .all(|p| p.deleted.is_none()));
}
