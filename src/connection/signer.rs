//! RSA user-auth signatures with ring.
//!
//! russh signs RSA with the pure-Rust `rsa` crate, rebuilding and
//! validating the key (CRT values included) for every signature; at 50
//! hosts that was most of ferry's CPU. ring's assembly-optimised `RsaKeyPair`, built once per key
//! file, does the same PKCS#1 v1.5 signature (`rsa-sha2-256`/`-512`, RFC
//! 8332) for a fraction of the cost. Keys ring refuses (under 2048 bits, or
//! not RSA) and SHA-1 `ssh-rsa` signatures, which ring cannot make, stay on
//! russh's own path.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256, RSA_PKCS1_SHA512};
use rsa::pkcs1::EncodeRsaPrivateKey;
use russh::keys::agent::AgentIdentity;
use russh::keys::ssh_encoding::Encode;
use russh::keys::ssh_key::private::KeypairData;
use russh::keys::ssh_key::Signature;
use russh::keys::{Algorithm, HashAlg, PrivateKey};

/// An RSA private key in ring's form.
pub(crate) struct RingRsa {
    pair: RsaKeyPair,
    rng: SystemRandom,
    /// Signatures made, so tests can tell this path from russh's.
    signed: AtomicU64,
}

impl RingRsa {
    /// ring's form of `key`, or None when it is not RSA or ring refuses it
    /// (then russh's own signer still works with it).
    pub(crate) fn from_key(key: &PrivateKey) -> Option<RingRsa> {
        let KeypairData::Rsa(kp) = key.key_data() else {
            return None;
        };
        // ssh-key keeps d, p, q and iqmp only; ring also wants d mod (p-1)
        // and d mod (q-1), which the rsa crate computes on the way to PKCS#1.
        let sk = rsa::RsaPrivateKey::try_from(kp).ok()?;
        let der = sk.to_pkcs1_der().ok()?;
        let pair = RsaKeyPair::from_der(der.as_bytes()).ok()?;
        Some(RingRsa {
            pair,
            rng: SystemRandom::new(),
            signed: AtomicU64::new(0),
        })
    }

    /// The SSH signature blob (`string alg, string s`) over `data`, or None
    /// for a hash ring cannot sign with (SHA-1) or a failed signature.
    pub(crate) fn sign(&self, hash: Option<HashAlg>, data: &[u8]) -> Option<Vec<u8>> {
        let padding = match hash? {
            HashAlg::Sha256 => &RSA_PKCS1_SHA256,
            HashAlg::Sha512 => &RSA_PKCS1_SHA512,
            _ => return None,
        };
        let mut s = vec![0; self.pair.public().modulus_len()];
        self.pair.sign(padding, &self.rng, data, &mut s).ok()?;
        let blob = Signature::new(Algorithm::Rsa { hash }, s)
            .ok()?
            .encode_vec()
            .ok()?;
        self.signed.fetch_add(1, Ordering::Relaxed);
        Some(blob)
    }

    pub(crate) fn signatures(&self) -> u64 {
        self.signed.load(Ordering::Relaxed)
    }
}

/// Why a ring-signed authentication attempt did not finish.
#[derive(Debug)]
pub(crate) enum SignError {
    /// The connection is gone.
    Send,
    /// ring did not sign; russh's own signer may still.
    Sign,
}

impl From<russh::SendError> for SignError {
    fn from(_: russh::SendError) -> Self {
        SignError::Send
    }
}

/// [`russh::Signer`]-style adapter for `authenticate_publickey_with`.
pub(crate) struct RingSigner<'a>(pub(crate) &'a RingRsa);

impl russh::Signer for RingSigner<'_> {
    type Error = SignError;

    fn auth_sign(
        &mut self,
        _key: &AgentIdentity,
        hash_alg: Option<HashAlg>,
        mut to_sign: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, SignError>> + Send {
        // russh hands over the data to sign and sends back whatever is
        // appended to it: the blob as an SSH string, as its own signer does.
        let signed = self
            .0
            .sign(hash_alg, &to_sign)
            .ok_or(SignError::Sign)
            .and_then(|blob| {
                blob.as_slice()
                    .encode(&mut to_sign)
                    .map_err(|_| SignError::Sign)?;
                Ok(to_sign)
            });
        std::future::ready(signed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::signature::Verifier;
    use russh::keys::ssh_encoding::Decode;

    fn keygen(bits: &str, format: &str) -> (tempfile::TempDir, PrivateKey) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id");
        let st = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "rsa", "-b", bits, "-m", format, "-N", "", "-f"])
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .status()
            .expect("ssh-keygen must be installed");
        assert!(st.success());
        let text = std::fs::read_to_string(&path).unwrap();
        let key = russh::keys::decode_secret_key(&text, None).unwrap();
        (dir, key)
    }

    /// The blob ring makes verifies with the key's public half, checked by
    /// the rsa crate (ssh-key's verifier), for both SHA-2 hashes.
    #[test]
    fn ring_rsa_signature_verifies_with_public_key() {
        let (_dir, key) = keygen("3072", "PEM");
        let ring = RingRsa::from_key(&key).expect("ring takes an RSA-3072 PKCS#1 key");
        let data = b"session id and userauth request";
        for hash in [HashAlg::Sha256, HashAlg::Sha512] {
            let blob = ring.sign(Some(hash), data).unwrap();
            let sig = Signature::decode(&mut blob.as_slice()).unwrap();
            assert_eq!(sig.algorithm(), Algorithm::Rsa { hash: Some(hash) });
            assert_eq!(sig.as_bytes().len(), 384);
            Verifier::verify(key.public_key(), data, &sig).unwrap();
            assert!(Verifier::verify(key.public_key(), b"other data", &sig).is_err());
        }
        assert_eq!(ring.signatures(), 2);
        // ssh-rsa (SHA-1) is left to russh.
        assert!(ring.sign(None, data).is_none());
    }

    /// The adapter appends the blob as an SSH string, the way russh's own
    /// signer extends the buffer.
    #[tokio::test]
    async fn signer_appends_blob_as_ssh_string() {
        use russh::Signer;
        let (_dir, key) = keygen("2048", "PKCS8");
        let ring = RingRsa::from_key(&key).unwrap();
        let prefix = b"to sign".to_vec();
        let ident = AgentIdentity::PublicKey {
            key: key.public_key().clone(),
            comment: String::new(),
        };
        let out = RingSigner(&ring)
            .auth_sign(&ident, Some(HashAlg::Sha512), prefix.clone())
            .await
            .unwrap();
        assert_eq!(&out[..prefix.len()], prefix);
        let mut rest = &out[prefix.len()..];
        let blob = Vec::<u8>::decode(&mut rest).unwrap();
        assert!(rest.is_empty());
        let sig = Signature::decode(&mut blob.as_slice()).unwrap();
        Verifier::verify(key.public_key(), &prefix, &sig).unwrap();
    }

    /// ring refuses RSA keys under 2048 bits: no ring form, so the caller
    /// keeps russh's signer for them.
    #[test]
    fn small_rsa_key_has_no_ring_form() {
        let (_dir, key) = keygen("1024", "PEM");
        assert!(RingRsa::from_key(&key).is_none());
    }
}
