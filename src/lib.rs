//! resource-sync: move REST resources between HTTP APIs, files, directories and pipes.
//! Data walks one way: cli -> config -> endpoint read (+ schema) -> filter -> graph -> sync -> endpoint write.

pub mod cli;
pub mod config;
pub mod endpoint;
pub mod exit_code;
pub mod filter;
pub mod format;
pub mod graph;
pub mod interrupt;
pub mod plan;
pub mod progress;
pub mod remap;
pub mod report;
pub mod resource;
pub mod schema;
pub mod sync;
