//! Test cases grouped by capability.

mod basics;
mod compat;
mod files;
mod http_read;
mod http_write;
mod json_server;
