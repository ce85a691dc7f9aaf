use kblame::sim::*;
fn main() {
    let start = std::time::Instant::now();
    let mut sim = Sim::new(42, utc(2026, 11, 26, 8, 0, 0));
    sim.nodes(20);
    for i in 0..40 {
        let c = DeploymentConfig::new(&format!("ns{}", i % 7), &format!("app{i}"))
            .replicas(8)
            .container(
                ContainerConfig::new("app", "nginx:1.25")
                    .port(80)
                    .readiness(ProbeConfig::http("/", 80)),
            );
        sim.apply_deployment(&c, Tool::KubectlApply);
    }
    sim.advance(60).start_trace();
    for _ in 0..12 {
        for i in 0..40 {
            sim.rollout_restart(&format!("ns{}", i % 7), &format!("app{i}"));
        }
        sim.advance(120);
    }
    let n = sim.records();
    let (out, _) = sim.finish("perf", "").unwrap();
    println!("{} records, {} bytes, {:?}", n, out.len(), start.elapsed());
}
