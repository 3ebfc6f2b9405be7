//! Negotiation: what browsers send, fallback between offers, every
//! parameter rule on both sides.

use super::*;
use alloc::vec::Vec;

fn accept(config: &DeflateConfig, offers: &[&str]) -> Option<Accepted> {
    accept_offers(config, offers.iter().copied()).unwrap()
}

fn response_to(offers: &[&str]) -> Option<String> {
    accept(&DeflateConfig::default(), offers).map(|a| a.response)
}

const DEFAULTS: Agreed = Agreed {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: 15,
    client_max_window_bits: 15,
};

#[test]
fn accepts_chromes_offer() {
    let accepted = accept(
        &DeflateConfig::default(),
        &["permessage-deflate; client_max_window_bits"],
    )
    .unwrap();
    assert_eq!(accepted.response, "permessage-deflate");
    assert_eq!(accepted.agreed, DEFAULTS);
}

#[test]
fn accepts_firefoxs_bare_offer_without_client_max_window_bits() {
    let accepted = accept(&DeflateConfig::default(), &["permessage-deflate"]).unwrap();
    assert_eq!(accepted.response, "permessage-deflate");
    assert_eq!(accepted.agreed, DEFAULTS);
    // With a server that limits its own window, still no client_max_window_bits.
    let config = DeflateConfig {
        server_max_window_bits: 10,
        server_no_context_takeover: true,
        ..DeflateConfig::default()
    };
    let accepted = accept(&config, &["permessage-deflate"]).unwrap();
    assert_eq!(
        accepted.response,
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
    );
}

#[test]
fn a_server_limiting_the_clients_window_declines_an_offer_without_the_parameter() {
    let config = DeflateConfig {
        client_max_window_bits: 10,
        ..DeflateConfig::default()
    };
    assert_eq!(accept(&config, &["permessage-deflate"]), None);
    let chrome = accept(&config, &["permessage-deflate; client_max_window_bits"]).unwrap();
    assert_eq!(
        chrome.response,
        "permessage-deflate; client_max_window_bits=10"
    );
    assert_eq!(chrome.agreed.client_max_window_bits, 10);
    // A client that promised a smaller window needs no answer.
    let small = accept(&config, &["permessage-deflate; client_max_window_bits=9"]).unwrap();
    assert_eq!(small.response, "permessage-deflate");
    assert_eq!(small.agreed.client_max_window_bits, 9);
}

#[test]
fn agrees_to_the_servers_window_and_context_requests() {
    let accepted = accept(
        &DeflateConfig::default(),
        &["permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_no_context_takeover"],
    )
    .unwrap();
    assert_eq!(
        accepted.response,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
    );
    assert_eq!(
        accepted.agreed,
        Agreed {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 15,
        }
    );
    // The server's own smaller limit wins and is answered.
    let config = DeflateConfig {
        server_max_window_bits: 9,
        ..DeflateConfig::default()
    };
    let accepted = accept(&config, &["permessage-deflate; server_max_window_bits=12"]).unwrap();
    assert_eq!(
        accepted.response,
        "permessage-deflate; server_max_window_bits=9"
    );
}

#[test]
fn falls_back_to_the_next_offer() {
    // Autobahn 13.7-style: offers in order of preference, the first ones
    // unacceptable.
    let offers = [
        "permessage-deflate; server_max_window_bits=7, permessage-deflate; mystery, \
         x-webkit-deflate-frame",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=9, \
         permessage-deflate",
    ];
    let accepted = accept(&DeflateConfig::default(), &offers).unwrap();
    assert_eq!(
        accepted.response,
        "permessage-deflate; client_no_context_takeover"
    );
    assert_eq!(accepted.agreed.client_max_window_bits, 9);
    assert!(accepted.agreed.client_no_context_takeover);
}

#[test]
fn accepts_quoted_values() {
    assert_eq!(
        response_to(&["permessage-deflate; server_max_window_bits=\"10\""]).as_deref(),
        Some("permessage-deflate; server_max_window_bits=10")
    );
    assert_eq!(
        response_to(&["permessage-deflate; client_max_window_bits=\"1\\2\""]).as_deref(),
        Some("permessage-deflate")
    );
}

#[test]
fn declines_offers_with_duplicate_or_bad_parameters() {
    for offer in [
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; client_max_window_bits=1000000000000",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"x\"",
        "permessage-deflate; unknown",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(response_to(&[offer]), None, "{offer:?} was accepted");
    }
    assert_eq!(response_to(&[]), None);
}

#[test]
fn a_malformed_header_is_a_bad_request() {
    let err = accept_offers(&DeflateConfig::default(), ["permessage-deflate; a=\"b"]).unwrap_err();
    assert_eq!(err.http_status(), Some(400));
}

#[test]
fn offers_what_the_config_asks_for() {
    assert_eq!(
        offer(&DeflateConfig::default()),
        "permessage-deflate; client_max_window_bits"
    );
    let config = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 10,
        client_max_window_bits: 9,
    };
    assert_eq!(
        offer(&config),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=9"
    );
}

fn check(config: &DeflateConfig, response: &[&str]) -> Result<Option<Agreed>> {
    check_response(config, response.iter().copied())
}

#[test]
fn the_client_takes_what_the_server_answers() {
    let config = DeflateConfig::default();
    assert_eq!(check(&config, &[]).unwrap(), None);
    assert_eq!(
        check(&config, &["permessage-deflate"]).unwrap(),
        Some(DEFAULTS)
    );
    let agreed = check(
        &config,
        &["permessage-deflate; client_max_window_bits=10; server_max_window_bits=\"11\"; server_no_context_takeover; client_no_context_takeover"],
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        agreed,
        Agreed {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 11,
            client_max_window_bits: 10,
        }
    );
}

#[test]
fn the_client_refuses_what_it_did_not_offer() {
    let config = DeflateConfig {
        server_no_context_takeover: true,
        server_max_window_bits: 10,
        ..DeflateConfig::default()
    };
    let ok = "permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
    assert!(check(&config, &[ok]).unwrap().is_some());
    for bad in [
        "permessage-deflate; server_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; foo",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=16",
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10, permessage-deflate",
        "x-webkit-deflate-frame",
        "permessage-deflate; server_no_context_takeover=yes; server_max_window_bits=10",
        "permessage-deflate;",
    ] {
        assert!(check(&config, &[bad]).is_err(), "{bad:?} was accepted");
    }
    // Two header lines are two extensions.
    assert!(check(&config, &[ok, ok]).is_err());
}

#[test]
fn a_server_accepts_this_clients_offer_and_the_client_agrees() {
    let configs = [
        DeflateConfig::default(),
        DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 8,
            client_max_window_bits: 9,
        },
        DeflateConfig {
            client_max_window_bits: 12,
            ..DeflateConfig::default()
        },
    ];
    for client in &configs {
        for server in &configs {
            let request = offer(client);
            let accepted = accept(server, &[request.as_str()]).unwrap();
            let agreed = check(client, &[accepted.response.as_str()])
                .unwrap()
                .unwrap();
            assert_eq!(agreed, accepted.agreed, "{request} / {}", accepted.response);
        }
    }
}

#[test]
fn the_agreed_parameters_make_matching_compressors() {
    let agreed = Agreed {
        server_no_context_takeover: true,
        client_no_context_takeover: false,
        server_max_window_bits: 8,
        client_max_window_bits: 9,
    };
    let mut client = agreed.deflater(Role::Client);
    let mut server = agreed.inflater(Role::Server);
    assert_eq!((client.window_bits(), server.window_bits()), (9, 9));
    assert_eq!(agreed.deflater(Role::Server).window_bits(), 8);
    assert_eq!(agreed.inflater(Role::Client).window_bits(), 8);
    let message: Vec<u8> = (0..2000u32).map(|i| (i % 300) as u8).collect();
    for _ in 0..2 {
        let mut wire = Vec::new();
        client.compress_message(&message, &mut wire);
        let mut out = Vec::new();
        server.inflate(&wire, &mut out, u64::MAX).unwrap();
        server.finish_message(&mut out, u64::MAX).unwrap();
        assert_eq!(out, message);
    }
}
