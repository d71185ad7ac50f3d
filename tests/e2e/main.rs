//! End-to-end tests: the real `keyhound` binary against real files and real git repositories
//! made with the git CLI in temporary directories. One binary, one module per topic.
// A test binary: a panic is how a test fails, in helpers as in tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod util;

mod adversarial;
mod audit;
mod baseline;
mod confidence;
mod decode;
mod deploy;
mod git;
mod gitleaks;
mod hook;
mod limits;
mod packed;
mod paths;
mod pre_receive;
mod purge;
mod reading;
mod recall;
mod revoke;
mod rules;
mod scan;
mod staged;
mod verify;
