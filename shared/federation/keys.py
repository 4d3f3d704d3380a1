"""An organisation's key: one Ed25519 key pair, NATS nkey-encoded (a user seed ``SU...`` and a
public key ``U...``).

The same key authenticates the organisation's leaf node to the hub (nkey auth), signs every
message it sends to another organisation, and, converted to Curve25519, opens the sealed payloads
addressed to it. Other organisations know only the public key (the federation directory).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import nkeys
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey


class FederationKeyError(ValueError):
    """A key or signature that is malformed or does not match; the message says which."""


def _b32decode(text: str) -> bytes:
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError):
        raise FederationKeyError("not an nkey (base32)") from None


def _check_crc(raw: bytes) -> bytes:
    body, crc = raw[:-2], int.from_bytes(raw[-2:], "little")
    if nkeys.crc16(body) != crc:
        raise FederationKeyError("nkey checksum does not match")
    return body


def public_key_bytes(public: str) -> bytes:
    """The raw 32-byte Ed25519 key of a user public nkey (``U...``)."""
    body = _check_crc(_b32decode(public))
    if len(body) != 33 or body[0] != nkeys.PREFIX_BYTE_USER:
        raise FederationKeyError("not a user public nkey (U...)")
    return body[1:]


def is_public_key(public: str) -> bool:
    try:
        public_key_bytes(public)
    except FederationKeyError:
        return False
    return True


@dataclass(frozen=True)
class OrgKey:
    """A private organisation key; ``public`` is what others are given."""

    seed: str

    @classmethod
    def generate(cls) -> OrgKey:
        raw = bytes(SigningKey.generate())
        return cls(nkeys.encode_seed(raw, nkeys.PREFIX_BYTE_USER).decode())

    def _signing(self) -> SigningKey:
        try:
            _prefix, raw = nkeys.decode_seed(bytearray(self.seed.encode()))
        except Exception:
            raise FederationKeyError("not a valid nkey seed") from None
        return SigningKey(bytes(raw))

    @property
    def public(self) -> str:
        raw = bytes(self._signing().verify_key)
        body = bytes([nkeys.PREFIX_BYTE_USER]) + raw
        crc = nkeys.crc16(bytearray(body)).to_bytes(2, "little")
        return base64.b32encode(body + crc).decode().rstrip("=")

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._signing().sign(data).signature).decode()

    def open(self, sealed: str) -> bytes:
        """Decrypt a payload sealed to this key."""
        private: PrivateKey = self._signing().to_curve25519_private_key()
        try:
            return SealedBox(private).decrypt(base64.b64decode(sealed))
        except (CryptoError, ValueError):
            raise FederationKeyError(
                "the sealed payload cannot be opened with this organisation's key"
            ) from None


def verify(public: str, data: bytes, signature: str) -> None:
    """Raise ``FederationKeyError`` unless ``signature`` over ``data`` is by ``public``'s
    holder."""
    try:
        VerifyKey(public_key_bytes(public)).verify(data, base64.b64decode(signature))
    except (BadSignatureError, ValueError):
        raise FederationKeyError("signature does not match the sender's public key") from None


def seal(data: bytes, to_public: str) -> str:
    """Encrypt ``data`` so that only the holder of ``to_public``'s private key can read it."""
    curve: PublicKey = VerifyKey(public_key_bytes(to_public)).to_curve25519_public_key()
    return base64.b64encode(SealedBox(curve).encrypt(data)).decode()
