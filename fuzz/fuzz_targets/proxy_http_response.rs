#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plainws_fuzz::proxy_http_response(data));
