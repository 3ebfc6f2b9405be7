#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plainws_fuzz::proxy_socks5(data));
