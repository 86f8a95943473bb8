//! reflex-django: run Django and Reflex together under one command.
//!
//! The binary is a thin shell around [`main`], so tests can drive the whole CLI
//! in-process as well as through the real executable.

pub mod atomic;
pub mod build;
pub mod bun;
pub mod child_env;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod error;
pub mod hash;
pub mod mode;
pub mod platform;
pub mod ports;
pub mod prefix;
pub mod progress;
pub mod project;
pub mod proxy;
pub mod python;
pub mod random;
pub mod scaffold;
pub mod stack;
pub mod supervisor;
pub mod vite;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the CLI with `args` (the first one is the program name) and returns the exit code.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    cli::main(args)
}
