"""The WeCom callback encryption follows the official WXBizMsgCrypt scheme exactly."""

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.transports.wecom_crypto import (
    BadMessage,
    BadPadding,
    CorpIdMismatch,
    SignatureError,
    WXBizMsgCrypt,
    pkcs7_unpad,
    signature,
)

# The published vector of the official sample (Sample.py of WXBizMsgCrypt).
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
TIMESTAMP, NONCE = "1476416373", "47744683"
SIGNATURE = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
ECHOSTR = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="


def crypt(corp_id: str = CORP_ID) -> WXBizMsgCrypt:
    return WXBizMsgCrypt(TOKEN, AES_KEY, corp_id)


def raw_decrypt(encrypted: str) -> bytes:
    key = base64.b64decode(AES_KEY + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()


def test_the_official_vector_verifies_and_decrypts():
    assert signature(TOKEN, TIMESTAMP, NONCE, ECHOSTR) == SIGNATURE
    assert crypt().verify_url(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR) == "1288432023552776189"


def test_a_tampered_signature_is_refused():
    wrong = SIGNATURE[:-1] + ("0" if SIGNATURE[-1] != "0" else "1")
    with pytest.raises(SignatureError):
        crypt().verify_url(wrong, TIMESTAMP, NONCE, ECHOSTR)
    with pytest.raises(SignatureError):
        crypt().verify_url(SIGNATURE, TIMESTAMP, "47744684", ECHOSTR)


def test_a_tampered_ciphertext_fails_the_signature_before_decryption():
    data = bytearray(base64.b64decode(ECHOSTR))
    data[-1] ^= 0x01
    with pytest.raises(SignatureError):
        crypt().verify_url(SIGNATURE, TIMESTAMP, NONCE, base64.b64encode(bytes(data)).decode())


def test_a_corrupted_last_block_is_bad_padding():
    data = bytearray(base64.b64decode(ECHOSTR))
    data[-1] ^= 0x01  # garbles the padding of the decrypted last block
    with pytest.raises(BadPadding):
        crypt().decrypt(base64.b64encode(bytes(data)).decode())


def test_a_message_for_another_corp_is_refused():
    with pytest.raises(CorpIdMismatch):
        crypt("ww0000000000000000").verify_url(SIGNATURE, TIMESTAMP, NONCE, ECHOSTR)


def test_the_official_vector_is_padded_to_32_byte_blocks():
    plain = raw_decrypt(ECHOSTR)
    body = b"1288432023552776189" + CORP_ID.encode()
    unpadded = 16 + 4 + len(body)
    assert len(plain) == 64 and plain[-1] == 32 - unpadded % 32 == 64 - unpadded
    assert struct.unpack(">I", plain[16:20]) == (19,)


@pytest.mark.parametrize("length", [0, 1, 11, 12, 13, 43, 44, 45, 100])
def test_our_ciphertext_is_padded_to_32_byte_blocks(length):
    encrypted = crypt().encrypt("x" * length, random16=b"\0" * 16)
    plain = raw_decrypt(encrypted)
    unpadded = 16 + 4 + length + len(CORP_ID)
    assert len(plain) % 32 == 0
    assert plain[-1] == 32 - unpadded % 32  # a whole extra block of 32 when already aligned
    assert plain[-1] in range(1, 33)


def test_padding_bounds_are_checked():
    with pytest.raises(BadPadding):
        pkcs7_unpad(b"a" * 31 + bytes([33]))
    with pytest.raises(BadPadding):
        pkcs7_unpad(b"a" * 31 + bytes([0]))
    with pytest.raises(BadPadding):
        pkcs7_unpad(b"a" * 30 + bytes([1, 2]))
    assert pkcs7_unpad(bytes([32]) * 32) == b""


def test_a_declared_length_beyond_the_plaintext_is_bad_padding():
    key = base64.b64decode(AES_KEY + "=")
    plain = b"\0" * 16 + struct.pack(">I", 500) + b"short" + CORP_ID.encode()
    plain += bytes([32 - len(plain) % 32]) * (32 - len(plain) % 32)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    encrypted = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    with pytest.raises(BadPadding):
        crypt().decrypt(encrypted)


@settings(max_examples=150, deadline=None)
@given(message=st.text(max_size=3000), prefix=st.binary(min_size=16, max_size=16))
def test_encrypt_then_decrypt_round_trips(message, prefix):
    c = crypt()
    encrypted = c.encrypt(message, random16=prefix)
    assert len(base64.b64decode(encrypted)) % 32 == 0
    assert c.decrypt(encrypted) == message


@settings(max_examples=50, deadline=None)
@given(message=st.text(min_size=1, max_size=500))
def test_a_passive_reply_envelope_round_trips(message):
    from bot.transports.wecom_crypto import parse_xml

    c = crypt()
    envelope = parse_xml(c.encrypt_message(message, nonce="n1", timestamp="1700000000"))
    encrypted = envelope.findtext("Encrypt")
    assert envelope.findtext("MsgSignature") == c.sign("1700000000", "n1", encrypted)
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    assert c.decrypt_message(envelope.findtext("MsgSignature"), "1700000000", "n1", body) == message


def test_a_body_with_a_dtd_is_not_parsed():
    body = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><xml><Encrypt>&a;</Encrypt></xml>'
    with pytest.raises(BadMessage):
        crypt().decrypt_message(SIGNATURE, TIMESTAMP, NONCE, body)


@pytest.mark.parametrize("key", ["short", AES_KEY + "A", "!" * 43])
def test_a_wrong_encoding_aes_key_is_refused(key):
    with pytest.raises(ValueError):
        WXBizMsgCrypt(TOKEN, key, CORP_ID)


def test_the_key_and_token_never_show_in_repr():
    shown = repr(crypt())
    assert AES_KEY not in shown and TOKEN not in shown
