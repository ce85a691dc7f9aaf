//! `kubectl-kblame`: kblame under kubectl's plugin name, so that `kubectl kblame …` works.
//!
//! The same program as `kblame` (src/main.rs, included here, not copied); run under this
//! name, its help and usage say `kubectl kblame`.

#[path = "../main.rs"]
mod app;

fn main() -> std::process::ExitCode {
    app::main()
}
