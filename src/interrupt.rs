//! SIGINT (Ctrl-C) and SIGTERM (CI cancellation, `timeout`, service managers) as a request
//! to stop cleanly: reading is abandoned at once (nothing is written yet), writing stops
//! starting requests and records those in flight. A second signal quits at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::Notify;

use crate::exit_code::{Interrupted, StopSignal};

/// Shared by the signal listener and the parts of a run that can stop early.
#[derive(Clone, Default)]
pub struct Interrupt {
    /// The first signal received, as `encode` writes it (0: none yet).
    received: Arc<AtomicU8>,
    notify: Arc<Notify>,
}

impl Interrupt {
    /// Listen for SIGINT and SIGTERM on a thread of its own: the run's one runtime thread
    /// is busy between awaits (a local read, a commit), and the run checks the flag as it
    /// goes. The handlers are installed before this returns, so a signal from then on is
    /// never the default one that ends the process where it stands (leaving its staging).
    pub fn on_signals() -> Interrupt {
        let interrupt = Interrupt::default();
        match Listeners::install() {
            Ok(listeners) => interrupt.listen_on_a_thread(listeners),
            Err(error) => {
                eprintln!("resource-sync: warning: cannot listen for SIGINT and SIGTERM: {error}")
            }
        }
        interrupt
    }

    fn listen_on_a_thread(&self, listeners: Listeners) {
        let listener = self.clone();
        let listen = move || {
            let Listeners {
                runtime,
                mut interrupt,
                mut terminate,
            } = listeners;
            runtime.block_on(async move {
                loop {
                    let received = tokio::select! {
                        Some(()) = interrupt.recv() => StopSignal::Interrupt,
                        Some(()) = terminate.recv() => StopSignal::Terminate,
                        else => return,
                    };
                    listener.on_signal(received);
                }
            });
        };
        if std::thread::Builder::new()
            .name("signals".into())
            .spawn(listen)
            .is_err()
        {
            eprintln!("resource-sync: warning: cannot listen for SIGINT and SIGTERM");
        }
    }

    /// The first signal stops the run cleanly; a second quits now, with its own status.
    fn on_signal(&self, received: StopSignal) {
        if self.is_requested() {
            eprintln!("resource-sync: {} again; quitting now", received.name());
            std::process::exit(received.exit() as i32);
        }
        let again = match received {
            StopSignal::Interrupt => "Ctrl-C again",
            StopSignal::Terminate => "a second signal",
        };
        eprintln!(
            "resource-sync: {}; finishing the requests in flight ({again} to quit now)",
            received.name()
        );
        self.request(received);
    }

    /// Ask the run to stop, as `signal` does; the first request decides the exit status.
    pub fn request(&self, signal: StopSignal) {
        let _ =
            self.received
                .compare_exchange(0, encode(signal), Ordering::SeqCst, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_requested(&self) -> bool {
        self.received.load(Ordering::SeqCst) != 0
    }

    /// The error a run stopped by the request ends with (exit 130 or 143); SIGINT if none
    /// was received.
    pub fn error(&self) -> anyhow::Error {
        let by = match self.received.load(Ordering::SeqCst) {
            TERMINATE => StopSignal::Terminate,
            _ => StopSignal::Interrupt,
        };
        Interrupted { by }.into()
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

const INTERRUPT: u8 = 1;
const TERMINATE: u8 = 2;

fn encode(signal: StopSignal) -> u8 {
    match signal {
        StopSignal::Interrupt => INTERRUPT,
        StopSignal::Terminate => TERMINATE,
    }
}

/// The two signal streams and the runtime that drives them (streams belong to the
/// runtime they were made in, so they move to the listening thread together).
struct Listeners {
    runtime: tokio::runtime::Runtime,
    interrupt: Signal,
    terminate: Signal,
}

impl Listeners {
    fn install() -> std::io::Result<Listeners> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate) = {
            let _inside = runtime.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        Ok(Listeners {
            runtime,
            interrupt,
            terminate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit_code::{exit_for_error, Exit};

    #[tokio::test]
    async fn waiters_wake_when_requested() {
        let interrupt = Interrupt::default();
        let waiter = tokio::spawn({
            let interrupt = interrupt.clone();
            async move { interrupt.requested().await }
        });
        tokio::task::yield_now().await;
        assert!(!interrupt.is_requested());
        interrupt.request(StopSignal::Interrupt);
        waiter.await.unwrap();
        interrupt.requested().await;
    }

    #[test]
    fn the_first_signal_decides_the_exit_status() {
        let interrupt = Interrupt::default();
        interrupt.request(StopSignal::Terminate);
        interrupt.request(StopSignal::Interrupt);
        assert_eq!(exit_for_error(&interrupt.error()), Exit::Terminated);
    }
}
