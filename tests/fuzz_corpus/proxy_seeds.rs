//! The proxy targets' hand-written seeds (`write_seed_corpus` in
//! `tests/fuzz_corpus.rs` calls this): real proxies' answers (tinyproxy's
//! 200, 403, 407, 401, 500; microsocks's replies), and one input for each
//! rule the readers check.

/// Writes every seed through `write(target, name, bytes)`.
pub fn write_proxy_seeds(write: fn(&str, &str, &[u8])) {
    // proxy_http_response: setup byte (bit 0 credentials, bit 1 small
    // limits), a piece list (count, sizes), then the answer.
    let answers: [(&str, u8, &[u8]); 14] = [
        ("tinyproxy-200", 0, b"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n"),
        ("200-with-tunnel-bytes", 0, b"HTTP/1.1 200 OK\r\n\r\n\x81\x05hello"),
        ("tinyproxy-407", 0, b"HTTP/1.0 407 Proxy Authentication Required\r\nServer: tinyproxy/1.11.1\r\nContent-Type: text/html\r\nProxy-Authenticate: Basic realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n<html>...</html>\n"),
        ("407-after-credentials", 1, b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate, Basic realm=\"a, b\"\r\n\r\n"),
        ("tinyproxy-401-after-credentials", 1, b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n"),
        ("tinyproxy-403", 0, b"HTTP/1.1 403 Access violation\r\nServer: tinyproxy/1.11.1\r\n\r\n"),
        ("tinyproxy-500", 0, b"HTTP/1.1 500 Unable to connect\r\nConnection: close\r\n\r\n"),
        ("502-no-reason", 0, b"HTTP/1.1 502\r\n\r\n"),
        ("interim-then-200", 0, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nX"),
        ("101-refused", 0, b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
        ("not-http", 0, b"SSH-2.0-OpenSSH_9.2\r\n\r\n"),
        ("bare-lf", 0, b"HTTP/1.1 200 OK\nX: y\n\nZ"),
        ("no-blank-line", 0, b"HTTP/1.1 200 OK\r\nX: y\r\n"),
        ("too-many-headers-small", 2, b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
    ];
    for (name, setup, answer) in answers {
        // Whole, and one byte at a time.
        write(
            "proxy_http_response",
            name,
            &[&[setup, 0][..], answer].concat(),
        );
        write(
            "proxy_http_response",
            &format!("{name}-bytewise"),
            &[&[setup, 1, 1][..], answer].concat(),
        );
    }
    let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
    while big.len() < 300 {
        big.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaa\r\n");
    }
    big.extend_from_slice(b"\r\n");
    write(
        "proxy_http_response",
        "oversized-small-limit",
        &[&[2, 2, 7, 13][..], &big].concat(),
    );

    // proxy_socks5: setup byte (bits 0-1 target kind, bit 2 credentials),
    // a piece list, then the proxy's bytes.
    let ok_v4: &[u8] = &[5, 0, 0, 1, 127, 0, 0, 1, 0x23, 0x29];
    let mut ok_v6 = vec![5, 0, 0, 4];
    ok_v6.extend_from_slice(&[0; 15]);
    ok_v6.extend_from_slice(&[1, 0x23, 0x29]);
    let ok_name = b"\x05\x00\x00\x03\x09localhost\x23\x29";
    let streams: Vec<(&str, u8, Vec<u8>)> = vec![
        ("no-auth-ipv4", 0, [&[5, 0][..], ok_v4].concat()),
        ("no-auth-ipv6-bound-v6", 1, [&[5, 0][..], &ok_v6].concat()),
        ("name-bound-name", 2, [&[5, 0][..], ok_name].concat()),
        ("user-password", 4, [&[5, 2, 1, 0][..], ok_v4].concat()),
        (
            "user-password-tunnel-bytes",
            6,
            [&[5, 2, 1, 0][..], ok_v4, b"\x81\x00"].concat(),
        ),
        ("microsocks-wrong-password", 4, vec![5, 2, 1, 2]),
        ("microsocks-needs-auth", 0, vec![5, 0xff]),
        (
            "microsocks-refused",
            2,
            vec![5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
        ),
        (
            "general-failure",
            0,
            vec![5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0],
        ),
        (
            "host-unreachable",
            0,
            vec![5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0],
        ),
        (
            "unknown-address-type",
            0,
            vec![5, 0, 5, 0, 0, 9, 1, 2, 3, 4],
        ),
        ("method-not-offered", 0, vec![5, 2]),
        (
            "http-answer",
            0,
            b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
        ),
        ("auth-version-5", 4, [&[5, 2, 5, 0][..], ok_v4].concat()),
    ];
    for (name, setup, stream) in streams {
        write("proxy_socks5", name, &[&[setup, 0][..], &stream].concat());
        write(
            "proxy_socks5",
            &format!("{name}-bytewise"),
            &[&[setup, 1, 1][..], &stream].concat(),
        );
    }
}
