//! Ctrl-C as a request to stop cleanly: reading is abandoned at once (nothing is written
//! yet), writing stops starting requests and records those in flight. A second Ctrl-C quits.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::exit_code::Exit;

/// Shared by the signal listener and the parts of a run that can stop early.
#[derive(Clone, Default)]
pub struct Interrupt {
    requested: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Interrupt {
    /// Listen for Ctrl-C on a thread of its own: the run's one runtime thread is busy
    /// between awaits (a local read, a commit), and the run checks the flag as it goes.
    pub fn on_ctrl_c() -> Interrupt {
        let interrupt = Interrupt::default();
        let listener = interrupt.clone();
        let listen = move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(listener.listen());
        };
        if std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(listen)
            .is_err()
        {
            eprintln!("resource-sync: warning: cannot listen for Ctrl-C");
        }
        interrupt
    }

    async fn listen(self) {
        while tokio::signal::ctrl_c().await.is_ok() {
            if self.is_requested() {
                eprintln!("resource-sync: interrupted again; quitting now");
                std::process::exit(Exit::Interrupted as i32);
            }
            eprintln!("resource-sync: interrupted; finishing the requests in flight (Ctrl-C again to quit now)");
            self.request();
        }
    }

    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Resolves once a stop is requested.
    pub async fn requested(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_wake_when_requested() {
        let interrupt = Interrupt::default();
        let waiter = tokio::spawn({
            let interrupt = interrupt.clone();
            async move { interrupt.requested().await }
        });
        tokio::task::yield_now().await;
        assert!(!interrupt.is_requested());
        interrupt.request();
        waiter.await.unwrap();
        interrupt.requested().await;
    }
}
