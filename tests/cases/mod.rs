//! Test cases grouped by capability.

mod basics;
mod ci;
mod clone;
mod clone_json_server;
mod compat;
mod concurrency;
mod files;
mod filters;
mod http_read;
mod http_write;
mod json_server;
mod plan;
mod progress;
