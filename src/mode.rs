//! Development or production: what `run` starts, what `build` prepares for, what
//! `doctor` checks, and what Django's settings are told (`REFLEX_DJANGO_ENV`). A leaf,
//! so the build, the stack and the children's environment share it without depending
//! on one another.

/// Development (dev servers, reloads) or production (the build, workers, the audit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Dev,
    Prod,
}

impl Mode {
    /// `dev` or `prod`, as Reflex's `--env` and Django's settings spell it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Dev => "dev",
            Mode::Prod => "prod",
        }
    }
}
