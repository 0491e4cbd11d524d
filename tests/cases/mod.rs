//! Test cases grouped by capability.

mod basics;
mod compat;
mod concurrency;
mod files;
mod filters;
mod http_read;
mod http_write;
mod json_server;
mod plan;
mod progress;
