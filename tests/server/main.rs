//! The front door in process: forwarding to real upstreams (hyper servers and a
//! WebSocket server on 127.0.0.1), serving files, and keeping Vite's config patched.

#[path = "../shared/route_table.rs"]
mod route_table;
mod support;

mod files;
mod proxy;
mod vite_keeper;
