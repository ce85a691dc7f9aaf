//! Deterministic cluster simulator (placeholder until the simulator lands).
