import NIOCore
import NIOSSL
import RunnelProtocol

/// Turns what BoringSSL reports into a status and a sentence that says what to change.
///
/// A failed certificate check is `UNAUTHENTICATED` (retrying will not help until a flag or a
/// certificate changes); anything else in the handshake is `UNAVAILABLE`.
public enum TLSFailure {
    /// Whether `error` came from TLS (and so has a better explanation than its dump).
    public static func isTLS(_ error: any Error) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError
    }

    /// The error a failed TLS handshake or TLS read is reported as.
    /// - Parameter peer: the endpoint or address of the other side, for the message.
    public static func error(_ error: any Error, peer: String) -> RunnelError {
        let (code, reason) = classify(error)
        return RunnelError(code, "TLS handshake with \(peer) failed: \(reason)")
    }

    /// A sentence for `error`, without the peer.
    public static func reason(_ error: any Error) -> String { classify(error).1 }

    static func classify(_ error: any Error) -> (StatusCode, String) {
        let text = String(describing: error)
        func has(_ needle: String) -> Bool { text.contains(needle) }
        if has("failedToValidateHostname") || has("Hostname") || has("HOSTNAME") {
            return (.unauthenticated, "the certificate does not name this host (its subjectAltName must list the name or IP address in the endpoint)")
        }
        if has("CERTIFICATE_VERIFY_FAILED") {
            return (.unauthenticated, "certificate not trusted (check --tls-ca: it must hold the CA that signed the peer's certificate, and the certificate must be valid now)")
        }
        if has("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return (.unauthenticated, "the peer sent no client certificate and this side requires one (--tls-require-client-cert): give the peer --tls-client-cert and --tls-client-key")
        }
        if has("CERTIFICATE_REQUIRED") {
            return (.unauthenticated, "the listener requires a client certificate: pass --tls-client-cert and --tls-client-key")
        }
        if has("UNKNOWN_CA") || has("BAD_CERTIFICATE") || has("CERTIFICATE_UNKNOWN") || has("DECRYPT_ERROR") {
            return (.unauthenticated, "the peer does not trust this side's certificate (the peer's --tls-ca must hold the CA that signed it)")
        }
        if has("CERTIFICATE_EXPIRED") {
            return (.unauthenticated, "a certificate has expired")
        }
        if has("WRONG_VERSION_NUMBER") || has("HTTP_REQUEST") || has("PACKET_LENGTH_TOO_LONG") || has("UNEXPECTED_RECORD") {
            return (.unavailable, "the peer does not speak TLS (is it a tcp:// or unix: endpoint?)")
        }
        if has("eofDuringHandshake") || has("EOF during handshake") || has("uncleanShutdown") {
            return (.unavailable, "the peer closed the connection during the TLS handshake (does it speak TLS? its log says why)")
        }
        if has("failedToLoad") || has("noSuchFilesystemObject") {
            return (.invalidArgument, "a certificate or key could not be loaded")
        }
        return (.unavailable, text)
    }
}
