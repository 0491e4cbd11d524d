//! Test cases grouped by capability.

mod basics;
