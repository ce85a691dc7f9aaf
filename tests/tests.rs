//! The one integration-test binary: runs the real `kblame` binary on traces.

mod it;
