//! The `reflex-django` binary as users run it, against real Django projects in
//! temporary directories and the suite's one Python venv.

mod common;
#[path = "../shared/route_table.rs"]
mod route_table;

mod errors;
mod forward;
mod help;
mod init;
mod readme;
mod routes;
mod vite;
mod vite_reflex;
