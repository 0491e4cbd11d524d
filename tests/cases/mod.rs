//! Test cases grouped by capability.

mod basics;
mod ci;
mod clone;
mod clone_json_server;
mod compare;
mod compat;
mod concurrency;
mod conformance;
mod django_services;
mod faults;
mod files;
mod filters;
mod generate_profile;
mod hostile;
mod hostile_servers;
mod http_read;
mod http_write;
mod json_server;
mod plain_server;
mod plan;
mod profiles_common;
mod profiles_read;
mod profiles_write;
mod progress;
mod properties;
mod tls;
