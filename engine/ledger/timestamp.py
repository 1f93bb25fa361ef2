"""Trusted time for checkpoints: RFC 3161 timestamp tokens from a time-stamping authority.

:func:`request_token` sends a TimeStampReq (SHA-256 of the data, a random nonce, the TSA's
certificate requested) to a TSA's URL and returns the DER TimeStampResp after checking that it
answers this request. :func:`verify_token` checks a response offline against the TSA's
certificate, which the verifier trusts (no chain building): the TSTInfo's message imprint is
the SHA-256 of the data; the CMS SignedData's signed attributes name TSTInfo as the content
and carry its digest; the SignerInfo names the trusted certificate (issuer and serial); the
signature over the DER SET of signed attributes verifies with its public key (RSA PKCS#1 v1.5
or ECDSA); the certificate is for time stamping. It returns the time and who issued it.

The data stamped for a ledger checkpoint is its note text (origin, size, root: what the log
signs), so the token proves that tree head existed at that time.
"""
from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}
MAX_RESPONSE = 1 << 20


class TimestampError(ValueError):
    """A token cannot be obtained, or does not verify (with the reason)."""


@dataclass(frozen=True)
class Timestamp:
    time: datetime
    issuer: str      # the TSA certificate's subject
    serial: int      # the token's serial number
    policy: str


def request_token(url: str, data: bytes, timeout: float = 15) -> bytes:
    """The DER TimeStampResp a TSA at ``url`` returns for ``data`` (checked: granted, same
    imprint and nonce)."""
    nonce = secrets.randbits(63)
    req = tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(data).digest()},
        "nonce": nonce, "cert_req": True})
    request = urllib.request.Request(url, data=req.dump(), method="POST",
                                     headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- configured URL
            body = response.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"time-stamping authority {url} cannot be reached: {exc}") from None
    if len(body) > MAX_RESPONSE:
        raise TimestampError(f"time-stamping authority {url} sent more than 1 MiB")
    info = _tst_info(body, data)
    if info["nonce"].native != nonce:
        raise TimestampError(f"time-stamping authority {url} answered another request (nonce differs)")
    return body


def _tst_info(token: bytes, data: bytes) -> tsp.TSTInfo:
    try:
        resp = tsp.TimeStampResp.load(token)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = resp["status"]["status_string"].native or []
            raise TimestampError(f"the authority refused the request: {status} {' '.join(text)}".strip())
        signed = resp["time_stamp_token"]["content"]
        info = signed["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TimestampError(f"not an RFC 3161 timestamp response ({exc.__class__.__name__}: {exc})") from None
    if algorithm not in HASHES or imprint["hashed_message"].native != hashlib.new(algorithm, data).digest():
        raise TimestampError("the token stamps other data (message imprint differs)")
    return info


def verify_token(token: bytes, data: bytes, tsa_cert_pem: bytes) -> Timestamp:
    """Check ``token`` (a DER TimeStampResp) for ``data`` against the trusted TSA certificate."""
    info = _tst_info(token, data)
    try:
        cert = cx509.load_pem_x509_certificate(tsa_cert_pem)
    except ValueError as exc:
        raise TimestampError(f"the TSA certificate is not a PEM X.509 certificate ({exc})") from None
    signed = tsp.TimeStampResp.load(token)["time_stamp_token"]["content"]
    try:
        signer = signed["signer_infos"][0]
        sid = signer["sid"]
        attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
        digest_name = signer["digest_algorithm"]["algorithm"].native
        sig_algo = signer["signature_algorithm"]
        signature = signer["signature"].native
        content = signed["encap_content_info"]["content"].contents
        ordinary = x509.Certificate.load(cert.public_bytes(Encoding.DER))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TimestampError(f"the token's signature information is malformed ({exc})") from None
    if sid.name != "issuer_and_serial_number" or sid.chosen["serial_number"].native != cert.serial_number \
            or sid.chosen["issuer"].dump() != ordinary.issuer.dump():
        raise TimestampError("the token is not signed by the trusted TSA certificate")
    if digest_name not in HASHES:
        raise TimestampError(f"unsupported digest {digest_name}")
    if attrs.get("content_type") is None or attrs["content_type"].native != "tst_info":
        raise TimestampError("the signed attributes do not name TSTInfo as the content")
    if attrs.get("message_digest") is None or attrs["message_digest"].native != hashlib.new(digest_name, content).digest():
        raise TimestampError("the TSTInfo was changed after signing (message digest differs)")
    signed_bytes = signer["signed_attrs"].untag().dump()  # signed as a DER SET, stored [0] IMPLICIT
    _check_signature(cert, sig_algo, signature, signed_bytes, HASHES[digest_name]())
    try:
        usage = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value
    except cx509.ExtensionNotFound:
        usage = []
    if cx509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise TimestampError("the TSA certificate is not for time stamping (extendedKeyUsage)")
    stamped = info["gen_time"].native
    if not cert.not_valid_before_utc <= stamped <= cert.not_valid_after_utc:
        raise TimestampError(f"the token's time {stamped.isoformat()} is outside the TSA certificate's validity")
    return Timestamp(stamped, cert.subject.rfc4514_string(), info["serial_number"].native,
                     info["policy"].dotted)


def _check_signature(cert: cx509.Certificate, sig_algo: algos.SignedDigestAlgorithm, signature: bytes,
                     signed: bytes, digest: hashes.HashAlgorithm) -> None:
    key = cert.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and sig_algo.signature_algo == "rsassa_pkcs1v15":
            key.verify(signature, signed, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and sig_algo.signature_algo == "ecdsa":
            key.verify(signature, signed, ec.ECDSA(digest))
        else:
            raise TimestampError(f"unsupported TSA signature {sig_algo.signature_algo} with {type(key).__name__}")
    except InvalidSignature:
        raise TimestampError("the TSA's signature on the token does not verify") from None


def describe(stamp: Timestamp) -> str:
    return f"{stamp.time.isoformat()} by {stamp.issuer} (serial {stamp.serial}, policy {stamp.policy})"

