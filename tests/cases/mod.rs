//! Test cases grouped by capability.

mod basics;
mod compat;
