"""Witnesses: third parties who co-sign a log's checkpoints (c2sp.org/tlog-cosignature, v1.0.0).

A cosignature is a signature line on the checkpoint's note, by the witness's own Ed25519 key,
whose signature is a ``timestamped_signature``: an 8-byte big-endian POSIX time then the
64-byte Ed25519 signature of::

    cosignature/v1
    time <the same time, decimal>
    <the checkpoint's note text, final newline included>

Its key ID is SHA-256(name || 0x0A || 0x04 || public key)[:4] (type 0x04, where a plain note
signature has 0x01), and its keys are written as note keys of that type: the verifier key
``<name>+<key ID>+<base64(0x04 || public key)>``, the signer key
``PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>``. A v1 cosignature says: as of that time,
this is the largest tree the witness has seen of that log, consistent with all it saw before.

A witness keeps what it last co-signed (:class:`WitnessState`) and co-signs a new checkpoint
only if the log's consistency proof from that one holds (:func:`check_extends`): a rewritten or
rolled-back log is refused, with a stable code, and never co-signed.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from hashlib import sha256

from govflow.transparency.checkpoint import Checkpoint, open_checkpoint
from govflow.transparency.errors import (
    InvalidKeyError,
    InvalidProofError,
    InvalidSignatureError,
    MalformedNoteError,
    TransparencyError,
)
from govflow.transparency.merkle import verify_consistency
from govflow.transparency.note import (
    ED25519,
    SIGNATURE_PREFIX,
    Note,
    Signature,
    Signer,
    Verifier,
    parse_note,
)

COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
MAX_CLOCK_SKEW = 300  # seconds a cosignature may be dated ahead of the log's clock
ConsistencyProof = Callable[[int, int], Sequence[bytes]]


class InconsistentLogError(TransparencyError):
    """The log's new checkpoint does not extend the one the witness co-signed: a rewritten
    history (or a second view of it). The witness refuses it and keeps its state."""

    code = "witness.inconsistent"


class RolledBackLogError(InconsistentLogError):
    """The log's newest checkpoint is smaller than the one the witness co-signed."""

    code = "witness.rollback"


class UnknownWitnessError(TransparencyError):
    """A cosignature by a key that is not one of the expected witnesses'."""

    code = "witness.unknown"


class UnknownCheckpointError(TransparencyError):
    """A cosignature of a checkpoint the log never issued: the note posted is not the
    checkpoint the log signed at that size (another root, size or origin)."""

    code = "witness.unknown_checkpoint"


class FutureCosignatureError(TransparencyError):
    """A cosignature dated later than the log's clock allows (beyond ``MAX_CLOCK_SKEW``): a
    witness says "as of that time", so a time not yet come cannot be kept."""

    code = "witness.future_timestamp"


def cosignature_key_id(name: str, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]."""
    digest = sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def cosigned_message(text: str | bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header, the time line, then the checkpoint's text."""
    body = text.encode() if isinstance(text, str) else text
    return f"{HEADER}time {timestamp}\n".encode() + body


class CosignatureVerifier(Verifier):
    """A witness's public key, checking cosignature/v1 lines (a :class:`Verifier`, so
    :func:`~govflow.transparency.note.open_note` checks them beside the log's signature)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        super().__init__(name, public_key)
        self.key_id = cosignature_key_id(name, public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x04 || public key)>``."""
        name, hex_id, key = _split_vkey(vkey, COSIGNATURE_V1)
        verifier = cls(name, key)
        if hex_id != f"{verifier.key_id:08x}":
            raise InvalidKeyError("the key ID does not match the name and key", name=name)
        return verifier

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        return super().verify(cosigned_message(text, timestamp), signature[8:])


class Cosigner(Signer):
    """A witness's private key: its signatures are timestamped cosignature/v1 ones, so
    ``sign_note(checkpoint_note, cosigner)`` co-signs a checkpoint.

    Args:
        name: the witness's name (a schema-less URL is recommended).
        seed: the 32-byte Ed25519 seed.
        clock: POSIX seconds now (whole seconds are signed).
    """

    def __init__(self, name: str, seed: bytes, clock: Callable[[], float] = time.time) -> None:
        super().__init__(name, seed)
        self.verifier = CosignatureVerifier(name, self.verifier.public_key)
        self.key_id = self.verifier.key_id
        self._clock = clock

    @classmethod
    def from_skey(cls, skey: str, clock: Callable[[], float] = time.time) -> Cosigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>``."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidKeyError("a signer key is PRIVATE+KEY+name+keyid+key")
        name, hex_id, seed = _split_vkey("+".join(parts[2:]), COSIGNATURE_V1)
        cosigner = cls(name, seed, clock)
        if hex_id != f"{cosigner.key_id:08x}":
            raise InvalidKeyError("the key ID does not match the name and key", name=name)
        return cosigner

    @property
    def skey(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self._seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def sign(self, text: str) -> Signature:
        timestamp = int(self._clock())
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise InvalidKeyError("the clock is before 1970", timestamp=timestamp)
        raw = self._key.sign(cosigned_message(text, timestamp))
        return Signature(self.name, self.key_id, timestamp.to_bytes(8, "big") + raw)


def generate_witness_key(name: str) -> tuple[str, str]:
    """A new witness key named ``name``: (signer key, verifier key), both of type 0x04."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    cosigner = Cosigner(name, Ed25519PrivateKey.generate().private_bytes_raw())
    return cosigner.skey, cosigner.verifier.vkey


def verifier_from_vkey(vkey: str) -> Verifier:
    """A verifier key of either type: a plain note key (0x01) or a witness's (0x04)."""
    parts = vkey.strip().split("+", 2)
    try:
        kind = base64.b64decode(parts[2], validate=True)[:1] if len(parts) == 3 else b""
    except binascii.Error:
        kind = b""
    if kind == bytes([COSIGNATURE_V1]):
        return CosignatureVerifier.from_vkey(vkey.strip())
    return Verifier.from_vkey(vkey.strip())


def cosignature_time(signature: Signature) -> int | None:
    """The POSIX time in a cosignature/v1 signature (None if it is not one's length)."""
    if len(signature.signature) != 8 + 64:
        return None
    return int.from_bytes(signature.signature[:8], "big")


@dataclass(frozen=True)
class WitnessState:
    """What a witness last co-signed of one log: kept between runs (a small JSON file)."""

    origin: str
    log_key: str
    size: int
    root: bytes
    note: str

    def to_json(self) -> str:
        data = {
            "origin": self.origin,
            "log_key": self.log_key,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "note": self.note,
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> WitnessState:
        try:
            data = json.loads(text)
            return cls(
                str(data["origin"]),
                str(data["log_key"]),
                int(data["size"]),
                base64.b64decode(data["root"], validate=True),
                str(data["note"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            raise MalformedNoteError(f"not a witness state file: {error}") from None


def check_extends(
    state: WitnessState | None,
    note: str | bytes,
    log_key: Verifier,
    consistency_proof: ConsistencyProof,
) -> Checkpoint:
    """Open the log's newest checkpoint with its key and check that it extends ``state``.

    Without a state (a witness's first run) the checkpoint is trusted as it is. Otherwise a
    smaller tree is a rollback, the same size must have the same root, and a larger tree must
    come with a consistency proof from the witness's own root (``consistency_proof(old,
    new)``, fetched from the log) to the new signed one.

    Raises:
        RolledBackLogError, InconsistentLogError: the log does not extend what was co-signed.
        TransparencyError: the note is not a checkpoint signed by ``log_key`` (its origin is
            the key's name).
    """
    origin = state.origin if state is not None else log_key.name
    checkpoint, _ = open_checkpoint(note, [log_key], origin=origin)
    if state is None or state.size == 0:
        return checkpoint
    details = {"cosigned_size": state.size, "size": checkpoint.size}
    if checkpoint.size < state.size:
        raise RolledBackLogError("the log is smaller than the checkpoint co-signed", **details)
    if checkpoint.size == state.size:
        if checkpoint.root != state.root:
            raise InconsistentLogError(
                "the log signed another root for the size co-signed", **details
            )
        return checkpoint
    try:
        proof = consistency_proof(state.size, checkpoint.size)
        verify_consistency(state.size, checkpoint.size, state.root, checkpoint.root, list(proof))
    except InvalidProofError as error:
        raise InconsistentLogError(
            "the new checkpoint does not extend the one co-signed: the log was rewritten",
            **details,
            proof=error.message,
        ) from None
    return checkpoint


def cosign(note: str | bytes, cosigner: Cosigner) -> str:
    """The checkpoint's text with the witness's cosignature alone: what it posts to the log."""
    text = parse_note(note).text
    return Note(text, (cosigner.sign(text),)).encode()


def accept_cosignatures(
    checkpoint_note: str,
    posted: str | bytes,
    witnesses: Iterable[Verifier],
    *,
    now: float | None = None,
    max_skew: float = MAX_CLOCK_SKEW,
) -> list[Signature]:
    """The cosignatures in ``posted`` (a note of the same checkpoint, or bare signature lines)
    that the expected ``witnesses`` made over ``checkpoint_note``'s text. With ``now`` (POSIX
    seconds, the log's clock), a cosignature/v1 dated more than ``max_skew`` seconds after it
    is refused. Either all are accepted or none.

    Raises:
        MalformedNoteError: neither a note nor signature lines.
        UnknownCheckpointError: a note whose text is not this checkpoint's (never issued).
        UnknownWitnessError: a signature by no expected witness's key.
        InvalidSignatureError: a witness's signature that does not verify.
        FutureCosignatureError: a cosignature dated in the future (beyond ``max_skew``).
    """
    stored = parse_note(checkpoint_note)
    text = stored.text
    if isinstance(posted, bytes):
        try:
            posted = posted.decode()
        except UnicodeDecodeError:
            raise MalformedNoteError("not valid UTF-8") from None
    if posted.startswith(SIGNATURE_PREFIX):
        note = parse_note(text + "\n" + posted)
    else:
        note = parse_note(posted)
        if note.text != text:
            raise UnknownCheckpointError("the note is not the checkpoint the log issued")
    keys = {(w.name, w.key_id): w for w in witnesses}
    accepted: list[Signature] = []
    for signature in note.signatures:
        if signature in stored.signatures:  # the log's own (a witness may post the whole note)
            continue
        witness = keys.get((signature.name, signature.key_id))
        if witness is None:
            raise UnknownWitnessError(
                f"{signature.name}+{signature.key_id:08x} is not an expected witness",
                name=signature.name,
            )
        if not witness.verify(text.encode(), signature.signature):
            raise InvalidSignatureError(
                f"invalid cosignature by {signature.name}", name=signature.name
            )
        dated = cosignature_time(signature) if isinstance(witness, CosignatureVerifier) else None
        if now is not None and dated is not None and dated > now + max_skew:
            raise FutureCosignatureError(
                f"the cosignature by {signature.name} is dated in the future",
                name=signature.name,
                timestamp=dated,
                now=int(now),
                max_skew=max_skew,
            )
        accepted.append(signature)
    return accepted


def with_signatures(note: str, signatures: Iterable[Signature]) -> str:
    """The note with more signature lines after its own (one per key: a later one replaces)."""
    parsed = parse_note(note)
    extra = list(signatures)
    fresh = {(s.name, s.key_id) for s in extra}
    kept = [s for s in parsed.signatures if (s.name, s.key_id) not in fresh]
    return Note(parsed.text, (*kept, *extra)).encode()


def _split_vkey(vkey: str, kind: int) -> tuple[str, str, bytes]:
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise InvalidKeyError("a key is name+keyid+key")
    name, hex_id, b64 = parts
    try:
        raw = base64.b64decode(b64, validate=True)
    except binascii.Error as error:
        raise InvalidKeyError("the key is not base64") from error
    if not raw or raw[0] != kind:
        wanted = "a witness key (type 0x04)" if kind == COSIGNATURE_V1 else "an Ed25519 key"
        found = "a log key (type 0x01)" if raw[:1] == bytes([ED25519]) else "another type"
        raise InvalidKeyError(f"expected {wanted}, got {found}")
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id.lower()):
        raise InvalidKeyError("a key ID is 8 hex digits")
    return name, hex_id.lower(), raw[1:]
