//! The node fixture scenarios (issue 12): a drain, a lost node, and a cordon that explains
//! nothing because the pod that went away ran on another node.

use super::clock::{utc, Ms};
use super::config::{ContainerConfig, DeploymentConfig, IntOrPercent, ProbeConfig, Tool};
use super::pdb::BudgetRule;
use super::scenarios::{Ending, Scenario};
use super::Sim;

/// The node scenarios, appended to [`super::scenarios::all`].
pub(crate) fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "node-drain",
            description: NODE_DRAIN,
            seed: 21,
            script: node_drain,
        },
        Scenario {
            name: "node-drain-pdb",
            description: NODE_DRAIN_PDB,
            seed: 24,
            script: node_drain_pdb,
        },
        Scenario {
            name: "node-lost",
            description: NODE_LOST,
            seed: 22,
            script: node_lost,
        },
        Scenario {
            name: "node-cordon-elsewhere",
            description: NODE_CORDON_ELSEWHERE,
            seed: 23,
            script: node_cordon_elsewhere,
        },
    ]
}

fn day(hour: i64, minute: i64, second: i64) -> Ms {
    utc(2026, 11, 27, hour, minute, second)
}

/// A web container on `port` with a readiness probe on `/`.
fn web(name: &str, image: &str, port: u16) -> ContainerConfig {
    ContainerConfig::new(name, image)
        .port(port)
        .request("cpu", "100m")
        .request("memory", "64Mi")
        .limit("memory", "128Mi")
        .readiness(ProbeConfig::http("/", port).period(5))
}

const NODE_DRAIN: &str = "Three nodes, recorded as Node objects. Deployment shop/cart (4 replicas of \
ghcr.io/acme/cart:3.4.0) runs two pods on node-1 and one on each other node. At 10:01:30 `kubectl cordon node-1` \
sets spec.unschedulable (manager kubectl, Update; the node lifecycle controller adds the \
node.kubernetes.io/unschedulable:NoSchedule taint). At 10:02:00 `kubectl drain node-1 --ignore-daemonsets` finds the \
node already cordoned and evicts its two pods through the eviction API (no PodDisruptionBudget): each gets \
DisruptionTarget EvictionByEvictionAPI and is deleted gracefully; the ReplicaSet replaces them on node-2 and node-3. \
The trace ends at 10:05.";

fn node_drain(sim: &mut Sim) -> Ending {
    sim.nodes(3);
    sim.advance_to(day(9, 20, 0));
    let config = DeploymentConfig::new("shop", "cart")
        .replicas(4)
        .container(web("cart", "ghcr.io/acme/cart:3.4.0", 8080));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(10, 0, 0)).record_nodes().start_trace();
    sim.advance_to(day(10, 1, 30)).cordon("node-1");
    sim.advance_to(day(10, 2, 0)).drain_node("node-1");
    sim.advance_to(day(10, 5, 0));
    Ending::Finish
}

const NODE_DRAIN_PDB: &str = "Three nodes, recorded as Node objects. Deployment shop/cart (4 replicas of \
ghcr.io/acme/cart:3.4.0) runs two pods on node-1 and one on each other node; PodDisruptionBudget shop/cart-pdb \
(minAvailable 3, selector app=cart, applied with kubectl apply) lets one of them go at a time: the disruption \
controller (kube-controller-manager) writes disruptionsAllowed 1. At 10:02:00 `kubectl drain node-1 \
--ignore-daemonsets` cordons node-1 (manager kubectl) and evicts both pods: the eviction subresource lets the first \
go (it writes disruptionsAllowed 0 and the pod into disruptedPods, manager kube-apiserver; the pod gets \
DisruptionTarget EvictionByEvictionAPI and is deleted) and refuses the second with 429 TooManyRequests, which \
leaves no record. kubectl drain retries every 5 s; once the replacement is Ready the controller writes \
disruptionsAllowed 1 again and the next retry evicts the second pod. The trace ends at 10:05.";

fn node_drain_pdb(sim: &mut Sim) -> Ending {
    sim.nodes(3);
    sim.advance_to(day(9, 20, 0));
    let config = DeploymentConfig::new("shop", "cart")
        .replicas(4)
        .container(web("cart", "ghcr.io/acme/cart:3.4.0", 8080));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(9, 30, 0));
    let rule = BudgetRule::MinAvailable(IntOrPercent::Int(3));
    sim.apply_budget("shop", "cart-pdb", rule, &[("app", "cart")]);
    sim.advance_to(day(10, 0, 0)).record_nodes().start_trace();
    sim.advance_to(day(10, 2, 0)).drain_node("node-1");
    sim.advance_to(day(10, 5, 0));
    Ending::Finish
}

const NODE_LOST: &str = "Three nodes, recorded as Node objects. Deployment payments/ledger (3 replicas of \
ghcr.io/acme/ledger:2.0.1) runs one pod per node. At 03:02:10 node-2 loses power: its kubelet stops \
heartbeating. After the 40 s node-monitor-grace-period the node lifecycle controller sets every condition of \
node-2 Unknown (NodeStatusUnknown), marks its pod not Ready and taints the node \
node.kubernetes.io/unreachable (NoSchedule and NoExecute). The pod tolerates the NoExecute taint for 300 s \
(DefaultTolerationSeconds); then the taint manager adds DisruptionTarget DeletionByTaintManager and deletes it. \
Nobody can confirm the kill: the pod stays Terminating (deletionTimestamp set, no DELETED) to the end, while the \
ReplicaSet creates a replacement on another node. The trace ends at 03:10:30.";

fn node_lost(sim: &mut Sim) -> Ending {
    sim.nodes(3);
    sim.advance_to(day(2, 30, 0));
    let config = DeploymentConfig::new("payments", "ledger")
        .replicas(3)
        .container(web("ledger", "ghcr.io/acme/ledger:2.0.1", 8443));
    sim.apply_deployment(&config, Tool::KubectlServerSideApply);
    sim.advance_to(day(3, 0, 0)).record_nodes().start_trace();
    sim.advance_to(day(3, 2, 10)).lose_node("node-2");
    sim.advance_to(day(3, 10, 30));
    Ending::Finish
}

const NODE_CORDON_ELSEWHERE: &str = "Three nodes, recorded as Node objects. Deployment shop/search (3 replicas of \
ghcr.io/acme/search:1.9.0) runs one pod per node. At 14:01:00 `kubectl cordon node-1` (manager kubectl); \
nothing is drained. At 14:01:40 `kubectl delete pod` removes the pod on node-2, and the ReplicaSet replaces it \
(not on the cordoned node). The cordon explains neither pod: the deleted pod never ran on node-1. The trace ends \
at 14:04.";

fn node_cordon_elsewhere(sim: &mut Sim) -> Ending {
    sim.nodes(3);
    sim.advance_to(day(13, 10, 0));
    let config = DeploymentConfig::new("shop", "search")
        .replicas(3)
        .container(web("search", "ghcr.io/acme/search:1.9.0", 8080));
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(14, 0, 0)).record_nodes().start_trace();
    sim.advance_to(day(14, 1, 0)).cordon("node-1");
    sim.advance_to(day(14, 1, 40));
    let victim = sim
        .pod_names("shop", "search")
        .get(1)
        .cloned()
        .unwrap_or_default();
    sim.delete_pod("shop", &victim);
    sim.advance_to(day(14, 4, 0));
    Ending::Finish
}
