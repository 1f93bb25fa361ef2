"""Trusted time for checkpoints: RFC 3161 timestamp tokens from a time-stamping authority.

The protocol work is Trail of Bits' ``rfc3161-client``: :func:`request_token` builds the
TimeStampReq with it (SHA-256 of the data, a random nonce, the TSA's certificate requested),
posts it to the TSA's URL and parses the answer with it; :func:`verify_token` checks a token
offline with its ``VerifierBuilder``: the CMS signature (OpenSSL's PKCS7_verify, at the
token's genTime), the signer being exactly the trusted TSA certificate, that certificate's
critical extendedKeyUsage timeStamping, and the message imprint. It returns the time and who
issued it.

Trust: the PEM file given as the TSA's certificate holds that certificate first; when it is
not self-signed, the certificates that issued it up to a root follow it (a chain file, as TSAs
publish them: ``cat tsa.pem ca.pem``). rfc3161-client verifies a token only up to a root
certificate, so a CA-issued TSA certificate alone is refused with a message saying what to add.
Before handing the token to the library, the status, the imprint and the signer's identity are
compared here, so that each failure says which of them it is.

The data stamped for a ledger checkpoint is its note text (origin, size, root: what the log
signs), so the token proves that tree head existed at that time.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from rfc3161_client import (HashAlgorithm, PKIStatus, TimestampRequestBuilder, TimeStampResponse,
                            VerificationError, VerifierBuilder, decode_timestamp_response)

SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
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
    imprint and nonce; the signature is checked by :func:`verify_token`, with the TSA's
    certificate)."""
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    post = urllib.request.Request(url, data=request.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(post, timeout=timeout) as response:  # noqa: S310 -- configured URL
            body = response.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"time-stamping authority {url} cannot be reached: {exc}") from None
    if len(body) > MAX_RESPONSE:
        raise TimestampError(f"time-stamping authority {url} sent more than 1 MiB")
    if _granted(body, data).tst_info.nonce != request.nonce:
        raise TimestampError(f"time-stamping authority {url} answered another request (nonce differs)")
    return body


def _granted(token: bytes, data: bytes) -> TimeStampResponse:
    """The parsed response, granted and stamping sha256(``data``)."""
    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"not an RFC 3161 timestamp response rfc3161-client can read ({exc})") from None
    if response.status != PKIStatus.GRANTED:  # rfc3161-client's verifier accepts only granted
        text = " ".join(response.status_string or ())
        raise TimestampError(f"the authority refused the request: status {response.status} {text}".strip())
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256 or imprint.message != hashlib.sha256(data).digest():
        raise TimestampError("the token stamps other data (message imprint differs from the SHA-256 of the data)")
    return response


def _trusted(tsa_cert_pem: bytes) -> tuple[x509.Certificate, list[x509.Certificate], list[x509.Certificate]]:
    """(TSA certificate, roots, intermediates) from a PEM file: the TSA's certificate first,
    then the certificates that issued it."""
    try:
        certs = x509.load_pem_x509_certificates(tsa_cert_pem)
    except ValueError as exc:
        raise TimestampError(f"the TSA certificate is not a PEM X.509 certificate ({exc})") from None
    roots = [c for c in certs if c.issuer == c.subject]
    if not roots:
        raise TimestampError(
            f"the TSA certificate {certs[0].subject.rfc4514_string()} is issued by "
            f"{certs[-1].issuer.rfc4514_string()}, whose certificate the file does not hold: rfc3161-client "
            "verifies a token up to a root, so append the issuer's certificate(s) to the file "
            "(cat tsa.pem ca.pem > tsa-chain.pem)")
    return certs[0], roots, [c for c in certs[1:] if c.issuer != c.subject]


def verify_token(token: bytes, data: bytes, tsa_cert_pem: bytes) -> Timestamp:
    """Check ``token`` (a DER TimeStampResp) for ``data`` against the trusted TSA certificate
    (PEM; followed by its issuers when it is not self-signed)."""
    response = _granted(token, data)
    tsa, roots, intermediates = _trusted(tsa_cert_pem)
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1 or signers[0].issuer != tsa.issuer or signers[0].serial_number != tsa.serial_number:
        raise TimestampError("the token is not signed by the trusted TSA certificate")
    builder = VerifierBuilder(tsa_certificate=tsa, roots=roots, intermediates=intermediates)
    try:
        builder.build().verify(response, hashlib.sha256(data).digest())
    except VerificationError as exc:
        raise TimestampError(f"the token does not verify with the trusted TSA certificate: {exc}") from None
    info = response.tst_info
    return Timestamp(info.gen_time, tsa.subject.rfc4514_string(), info.serial_number, info.policy.dotted_string)


def token_fields(token: bytes) -> tuple[str, str | None]:
    """(genTime ISO 8601, the signer's subject or the TSA name) read from a token without
    verifying it, for display beside the command that verifies it."""
    try:
        response = decode_timestamp_response(token)
        info = response.tst_info
        signer = next(iter(response.signed_data.signer_infos))
        certs = [x509.load_der_x509_certificate(der) for der in response.signed_data.certificates]
    except (ValueError, StopIteration):
        return "unreadable token", None
    issuer = next((c.subject.rfc4514_string() for c in certs
                   if (c.issuer, c.serial_number) == (signer.issuer, signer.serial_number)), None)
    if issuer is None and isinstance(info.name, x509.DirectoryName):  # the TSTInfo's optional tsa name
        issuer = info.name.value.rfc4514_string()
    return info.gen_time.isoformat(), issuer or f"certificate serial {signer.serial_number}"


def describe(stamp: Timestamp) -> str:
    return f"{stamp.time.isoformat()} by {stamp.issuer} (serial {stamp.serial}, policy {stamp.policy})"
