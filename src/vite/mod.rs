//! Vite's proxy rules for the Django prefixes, kept in Reflex's generated
//! `.web/vite.config.js`, so `http://localhost:3000/admin` reaches Django as well.
//!
//! - [`patch`]: the pure text → text function (also `reflex-django vite patch`, which
//!   the Python plugin runs on the generated text during Reflex's compile).
//! - [`patch_file`]: the same on disk, atomic, writing only when the text changes.
//! - [`spawn_keeper`]: re-applies the patch whenever Reflex rewrites the file.
//! - [`ensure_live`]: checks that the running dev server uses the re-applied rules.
//!
//! The rules come from the same [`RouteTable`](crate::proxy::routes::RouteTable) as the
//! front door's and send Django's paths to the front door, not to Django itself: one
//! routing brain.

mod file;
mod keeper;
mod lexer;
mod patch;
mod rules;
mod verify;

pub use file::{Outcome, patch_file, strip_file};
pub use keeper::{Keeper, KeeperEvent, spawn_keeper};
pub use patch::{BEGIN, END, patch, strip};
pub use rules::{ViteRules, front_door_url};
pub use verify::ensure_live;

/// Where Reflex writes the Vite config, relative to the project root.
pub const CONFIG_PATH: &str = ".web/vite.config.js";
