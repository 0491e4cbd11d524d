//! HTTPS for the test server: a fresh self-signed certificate (rcgen) and a rustls listener
//! for `axum::serve`, both on the ring provider the product's reqwest uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that connects but never finishes its handshake is dropped after this long,
/// so it cannot hold up the accept loop.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// A server config for a new self-signed certificate naming `127.0.0.1` and `localhost`,
/// and that certificate in PEM.
pub(super) fn self_signed() -> (Arc<rustls::ServerConfig>, String) {
    let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    let certified =
        rcgen::generate_simple_self_signed(names).expect("rcgen makes a self-signed certificate");
    let pem = certified.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("the generated key matches its certificate");
    (Arc::new(config), pem)
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum;
/// failed handshakes (a client refusing the certificate) are dropped and accepting goes on.
pub(super) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub(super) fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, address) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                // Out of descriptors and the like: wait a little, as axum's own listener does.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream));
            if let Ok(Ok(tls)) = handshake.await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
