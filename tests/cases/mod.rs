//! Test cases grouped by capability.

mod basics;
mod ci;
mod clone;
mod clone_json_server;
mod compat;
mod concurrency;
mod conformance;
mod faults;
mod files;
mod filters;
mod hostile;
mod hostile_servers;
mod http_read;
mod http_write;
mod json_server;
mod plan;
mod progress;
mod properties;
mod tls;
