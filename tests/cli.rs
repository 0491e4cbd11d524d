//! Integration tests: the real binary against real servers on 127.0.0.1 and real files.
//! One test binary (fast to link); helpers in `util`, the HAL server in `server`.

mod cases;
mod server;
mod util;
