"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, as Go's golang.org/x/mod/sumdb/note.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines::

    <text, ending in "\\n">
    <blank line>
    — <key name> <base64(4-byte big-endian key ID || 64-byte Ed25519 signature of the text)>

Key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. Keys are passed around as
the strings sumdb/note uses: a verifier key ``<name>+<key ID as 8 hex digits>+<base64(0x01 ||
public key)>`` and a signer key ``PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || 32-byte seed)>``.
A note may carry several signatures (the log's, then witnesses' co-signatures);
``open_note`` reports which of them are by known keys and verified.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from govflow.transparency.errors import (
    AmbiguousKeyError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedNoteError,
    UnverifiedNoteError,
)

ED25519 = 0x01
SIGNATURE_PREFIX = "— "  # em dash (U+2014), space
# The spec asks verifiers for a limit of at least 16; Go's sumdb/note stops at 100.
MAX_SIGNATURES = 100


def key_id(name: str, public_key: bytes) -> int:
    """The RECOMMENDED key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    digest = sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def valid_name(name: str) -> bool:
    """A key name is non-empty and has no Unicode space and no plus sign."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and ID and the signature bytes (after the ID)."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """The line as written in a note, newline included."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(raw).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A note's text and its signature lines, verified or not."""

    text: str
    signatures: tuple[Signature, ...] = ()

    def encode(self) -> str:
        """The note as text: the text, a blank line, the signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


@dataclass(frozen=True)
class OpenedNote:
    """A note whose every signature by a known key verified: ``verified`` names those keys'
    signatures; ``unverified`` holds the ones by keys the caller did not know."""

    text: str
    verified: tuple[Signature, ...]
    unverified: tuple[Signature, ...]

    def verified_by(self) -> set[str]:
        """The names of the known keys that signed."""
        return {s.name for s in self.verified}


class Verifier:
    """A known Ed25519 public key, from its verifier key string."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not valid_name(name):
            raise InvalidKeyError(f"invalid key name {name!r}")
        if len(public_key) != 32:
            raise InvalidKeyError("an Ed25519 public key is 32 bytes", length=len(public_key))
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        # The key's base64 may itself hold a "+": split off the name and ID only.
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise InvalidKeyError("a verifier key is name+keyid+key")
        name, hex_id, b64 = parts
        key = _key_bytes(b64)
        verifier = cls(name, key)
        if _parse_key_id(hex_id) != verifier.key_id:
            raise InvalidKeyError("the key ID does not match the name and key", name=name)
        return verifier

    @property
    def vkey(self) -> str:
        """The verifier key string, to publish."""
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id:08x}+{encoded}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, text)
        except InvalidSignature:
            return False
        return True


class Signer:
    """An Ed25519 private key that signs notes, from its signer key string."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_name(name):
            raise InvalidKeyError(f"invalid key name {name!r}")
        if len(seed) != 32:
            raise InvalidKeyError("an Ed25519 seed is 32 bytes", length=len(seed))
        self.name = name
        self._seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)
        self.key_id = self.verifier.key_id

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``."""
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise InvalidKeyError("a signer key is PRIVATE+KEY+name+keyid+key")
        _, _, name, hex_id, b64 = parts
        signer = cls(name, _key_bytes(b64))
        if _parse_key_id(hex_id) != signer.key_id:
            raise InvalidKeyError("the key ID does not match the name and key", name=name)
        return signer

    @property
    def skey(self) -> str:
        """The signer key string: a secret, for the signer's settings only."""
        encoded = base64.b64encode(bytes([ED25519]) + self._seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{encoded}"

    def sign(self, text: str) -> Signature:
        """This key's signature of a note text."""
        return Signature(self.name, self.key_id, self._key.sign(text.encode()))


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 key named ``name``: (signer key, verifier key)."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    signer = Signer(name, seed)
    return signer.skey, signer.verifier.vkey


def sign_note(note: Note | str, *signers: Signer) -> str:
    """The note with each signer's signature added; an existing signature by the same key
    (name and key ID) is replaced, others are kept, in order, before the new ones."""
    if isinstance(note, str):
        note = Note(note)
    _check_text(note.text)
    if not note.text.endswith("\n"):
        raise MalformedNoteError("a note text is non-empty and ends in a newline")
    fresh = [signer.sign(note.text) for signer in signers]
    replaced = {(s.name, s.key_id) for s in fresh}
    kept = [s for s in note.signatures if (s.name, s.key_id) not in replaced]
    for s in kept:
        if not valid_name(s.name):
            raise MalformedNoteError(f"invalid key name {s.name!r}")
    return Note(note.text, (*kept, *fresh)).encode()


def parse_note(message: str | bytes) -> Note:
    """A note's text and signature lines, checked for syntax only (nothing is verified)."""
    if isinstance(message, bytes):
        try:
            message = message.decode()
        except UnicodeDecodeError as error:
            raise MalformedNoteError("not valid UTF-8") from error
    _check_text(message)
    split = message.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNoteError("no signature lines, or no final newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError("too many signatures", count=len(lines))
    return Note(text, tuple(_parse_signature(line) for line in lines))


def open_note(message: str | bytes, known: Iterable[Verifier]) -> OpenedNote:
    """Parse a note and verify every signature by a known key (name and key ID both match).

    Signatures by unknown keys are reported, not checked. Repeated signatures by one key count
    once (the first), as in sumdb/note.

    Raises:
        MalformedNoteError: not a signed note.
        AmbiguousKeyError: two known keys share name and key ID, and one is needed.
        InvalidSignatureError: a known key's signature does not verify (the note is rejected).
        UnverifiedNoteError: no signature is by a known key.
    """
    note = parse_note(message)
    keys: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in known:
        keys.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    text = note.text.encode()
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in note.signatures:
        candidates = keys.get((sig.name, sig.key_id), [])
        if not candidates:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if len(candidates) > 1:
            raise AmbiguousKeyError(f"ambiguous key {sig.name}+{sig.key_id:08x}")
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not candidates[0].verify(text, sig.signature):
            raise InvalidSignatureError(
                f"invalid signature for key {sig.name}+{sig.key_id:08x}", name=sig.name
            )
        verified.append(sig)
    if not verified:
        raise UnverifiedNoteError(
            "the note has no signature by a known key",
            names=[s.name for s in unverified],
        )
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def _check_text(message: str) -> None:
    if any(ord(c) < 0x20 and c != "\n" for c in message):
        raise MalformedNoteError("control characters other than newline")
    try:
        message.encode()
    except UnicodeEncodeError as error:  # lone surrogates: not valid UTF-8
        raise MalformedNoteError("not valid UTF-8") from error


def _parse_signature(line: str) -> Signature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError("a signature line starts with an em dash and a space")
    name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = base64.b64decode(b64, validate=True)
    except binascii.Error as error:
        raise MalformedNoteError("a signature is not base64", name=name) from error
    if not valid_name(name) or not b64 or len(raw) < 5:
        raise MalformedNoteError("malformed signature line", name=name)
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _key_bytes(b64: str) -> bytes:
    try:
        raw = base64.b64decode(b64, validate=True)
    except binascii.Error as error:
        raise InvalidKeyError("the key is not base64") from error
    if not raw or raw[0] != ED25519:
        raise InvalidKeyError("only Ed25519 keys (type 0x01) are supported")
    return raw[1:]


def _parse_key_id(hex_id: str) -> int:
    if len(hex_id) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex_id):
        raise InvalidKeyError("a key ID is 8 hex digits")
    return int(hex_id, 16)
