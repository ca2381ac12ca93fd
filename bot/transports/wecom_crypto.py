"""WeCom callback encryption (企业微信回调加解密, the official WXBizMsgCrypt scheme).

The scheme, as the official Python sample (WXBizMsgCrypt3.py, whose Sample.py carries the
published test vector) and the WeCom doc page "加解密方案说明" define it:

- signature = SHA1 of the sorted, concatenated strings token, timestamp, nonce, ciphertext;
- key = base64decode(EncodingAESKey + "="): 32 bytes, AES-256-CBC, IV = key[:16];
- plaintext = 16 random bytes + 4-byte big-endian length + message + receive id (corp id),
  PKCS#7-padded to **32-byte** blocks (not AES's 16: the sample's PKCS7Encoder uses 32);
- the ciphertext travels base64-encoded.

AES itself comes from `cryptography`, XML parsing from `defusedxml`; only the framing is ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as safe_xml

BLOCK_SIZE = 32  # the official PKCS7Encoder.block_size
MAX_BODY = 256 * 1024  # a callback body is a few KB; refuse anything absurd before parsing


class WeComCryptoError(Exception):
    """A callback could not be authenticated or decrypted."""


class SignatureError(WeComCryptoError):
    """msg_signature does not match token/timestamp/nonce/ciphertext."""


class BadPadding(WeComCryptoError):
    """The decrypted block is not valid PKCS#7 (32-byte blocks) or its length is wrong."""


class CorpIdMismatch(WeComCryptoError):
    """The message decrypted, but was addressed to another receive id (corp id)."""


class BadMessage(WeComCryptoError):
    """The callback body is not the XML envelope WeCom sends."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA1 hex digest over the four strings sorted bytewise (the official getSHA1)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # SHA1: mandated by WeCom


def pkcs7_pad(data: bytes, block: int = BLOCK_SIZE) -> bytes:
    amount = block - len(data) % block
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block: int = BLOCK_SIZE) -> bytes:
    if not data or len(data) % block:
        raise BadPadding("ciphertext is not a whole number of blocks")
    amount = data[-1]
    if not 1 <= amount <= block or data[-amount:] != bytes([amount]) * amount:
        raise BadPadding("invalid PKCS#7 padding")
    return data[:-amount]


def parse_xml(text: str | bytes) -> ET.Element:
    """Parse a small XML document from WeCom: UTF-8, beginning with ``<xml>``, no DTD, no
    entities (defusedxml refuses them), at most `MAX_BODY` bytes."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_BODY:
        raise BadMessage("callback body too large")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("not UTF-8") from None
    if not raw.lstrip().startswith(b"<xml>"):
        # WeCom's envelope and messages are a bare <xml> element: no declaration, no DTD.
        raise BadMessage("not a WeCom <xml> document")
    try:
        return safe_xml.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadMessage(f"refused XML: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise BadMessage(f"not XML: {exc}") from None


class WXBizMsgCrypt:
    """Verify, decrypt and encrypt WeCom callback messages for one receive id (corp id)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("the EncodingAESKey must be 43 characters")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("the EncodingAESKey is not base64") from None
        if len(key) != 32:
            raise ValueError("the EncodingAESKey must decode to 32 bytes")
        self._token = token
        self._key = key
        self.receive_id = receive_id

    def __repr__(self) -> str:  # never show the key or the token
        return f"WXBizMsgCrypt(receive_id={self.receive_id!r})"

    # -- signature -----------------------------------------------------------------
    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self._token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise `SignatureError` unless the signature matches (constant-time compare)."""
        expected = self.sign(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise SignatureError("msg_signature does not match")

    # -- AES -------------------------------------------------------------------------
    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def decrypt(self, encrypted: str) -> str:
        """The message inside base64 `encrypted`; checks padding, length and receive id."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise BadPadding("ciphertext is not base64") from None
        if not data or len(data) % 16:
            raise BadPadding("ciphertext is not a whole number of AES blocks")
        decryptor = self._cipher().decryptor()
        plain = pkcs7_unpad(decryptor.update(data) + decryptor.finalize())
        if len(plain) < 20:
            raise BadPadding("plaintext shorter than its header")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise BadPadding("message length exceeds the plaintext")
        message = plain[20 : 20 + length]
        receive_id = plain[20 + length :].decode("utf-8", errors="replace")
        if not hmac.compare_digest(receive_id.encode(), self.receive_id.encode()):
            raise CorpIdMismatch("message is for another corp id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise BadPadding("message is not UTF-8") from None

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        """base64 ciphertext of `message` framed for our receive id."""
        prefix = random16 if random16 is not None else os.urandom(16)
        if len(prefix) != 16:
            raise ValueError("the random prefix must be 16 bytes")
        body = message.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self.receive_id.encode("utf-8")
        encryptor = self._cipher().encryptor()
        data = encryptor.update(pkcs7_pad(plain)) + encryptor.finalize()
        return base64.b64encode(data).decode("ascii")

    # -- the three calls of the official sample ----------------------------------------
    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET): the decrypted echostr to answer with (VerifyURL)."""
        self.verify(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def decrypt_message(
        self, msg_signature: str, timestamp: str, nonce: str, body: str | bytes
    ) -> str:
        """The plaintext XML of a POSTed callback `<xml><Encrypt>…</Encrypt></xml>` (DecryptMsg)."""
        encrypted = parse_xml(body).findtext("Encrypt")
        if not encrypted:
            raise BadMessage("no Encrypt element")
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_message(self, reply: str, nonce: str, timestamp: str | None = None) -> str:
        """The encrypted envelope of a passive reply (EncryptMsg)."""
        stamp = timestamp or str(int(time.time()))
        encrypted = self.encrypt(reply)
        sig = self.sign(stamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{sig}]]></MsgSignature>"
            f"<TimeStamp>{escape(stamp)}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


__all__ = [
    "BLOCK_SIZE",
    "BadMessage",
    "BadPadding",
    "CorpIdMismatch",
    "SignatureError",
    "WXBizMsgCrypt",
    "WeComCryptoError",
    "parse_xml",
    "signature",
]
