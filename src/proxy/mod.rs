//! The front door: routes Django's prefixes to Django and everything else to Reflex.

pub mod routes;
