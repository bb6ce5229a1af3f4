"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, interoperable with Go's sumdb/note."""

from __future__ import annotations

import pytest

from govflow.transparency import (
    AmbiguousKeyError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedNoteError,
    Note,
    Signer,
    UnverifiedNoteError,
    Verifier,
    generate_key,
    open_note,
    parse_note,
    sign_note,
)

# Vectors from golang.org/x/mod, sumdb/note/note_test.go (TestNewVerifier, TestNewSigner,
# TestSign, TestOpen) at commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)
PETER = Verifier.from_vkey(PETER_VKEY)
ENOCH = Verifier.from_vkey(ENOCH_VKEY)


def test_a_signer_key_gives_the_published_verifier_key() -> None:
    """The Go vector's signer key parses and derives its published verifier key and ID."""
    signer = Signer.from_skey(PETER_SKEY)
    assert signer.verifier.vkey == PETER_VKEY
    assert signer.key_id == PETER.key_id == 0xC74F20A3
    assert signer.skey == PETER_SKEY


def test_signing_is_byte_for_byte_go_sumdb_note() -> None:
    """Signing the Go vector's text gives exactly Go's signed note."""
    assert sign_note(TEXT, Signer.from_skey(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_signing_again_replaces_the_same_keys_signature() -> None:
    """A signature already on the note by the same key is replaced, not repeated."""
    stale = parse_note(TEXT + "\n" + PETER_SIG.replace("x08go/", "x08go/AAAA"))
    assert sign_note(stale, Signer.from_skey(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_a_note_with_two_signatures_reports_which_verified() -> None:
    """With both keys known both signatures verify; with one known, the other is reported
    as unverified; with none known the note is refused."""
    message = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    both = open_note(message, [PETER, ENOCH])
    assert both.text == TEXT
    assert [s.name for s in both.verified] == ["PeterNeumann", "EnochRoot"]
    assert both.unverified == ()
    one = open_note(message, [PETER])
    assert one.verified_by() == {"PeterNeumann"}
    assert [(s.name, s.key_id) for s in one.unverified] == [("EnochRoot", 0xAF0CFE78)]
    with pytest.raises(UnverifiedNoteError) as caught:
        open_note(message, [])
    assert caught.value.code == "note.unverified"
    assert caught.value.details["names"] == ["PeterNeumann", "EnochRoot"]


def test_a_witness_cosigns_a_log_signed_note() -> None:
    """A second key's signature added to a signed note keeps the first, and both verify."""
    log_skey, log_vkey = generate_key("example.org/council-log")
    witness_skey, witness_vkey = generate_key("example.org/street-office")
    signed = sign_note("example.org/council-log\n3\nroot\n", Signer.from_skey(log_skey))
    cosigned = sign_note(parse_note(signed), Signer.from_skey(witness_skey))
    assert cosigned.startswith(signed)
    opened = open_note(cosigned, [Verifier.from_vkey(log_vkey), Verifier.from_vkey(witness_vkey)])
    assert opened.verified_by() == {"example.org/council-log", "example.org/street-office"}


def test_a_tampered_note_is_refused() -> None:
    """Changing one character of the signed text makes the known key's signature fail,
    which rejects the whole note."""
    tampered = TEXT.replace("answer", "Answer") + "\n" + PETER_SIG + ENOCH_SIG
    with pytest.raises(InvalidSignatureError) as caught:
        open_note(tampered, [PETER])
    assert caught.value.code == "note.invalid_signature"


def test_a_corrupted_signature_by_a_known_key_is_refused() -> None:
    """A known key's signature with altered bytes (Go's ABCD insertion) rejects the note."""
    corrupted = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignatureError):
        open_note(corrupted, [PETER])


def test_a_note_signed_by_another_key_of_the_same_name_is_unverified() -> None:
    """A key with the expected name but another public key has another key ID: its signature
    is ignored, so a note carrying only it is refused as unverified."""
    impostor_skey, _ = generate_key("PeterNeumann")
    forged = sign_note(TEXT, Signer.from_skey(impostor_skey))
    with pytest.raises(UnverifiedNoteError):
        open_note(forged, [PETER])


def test_repeated_signatures_count_once() -> None:
    """Repeated signatures by one verified key count once; identical unknown ones once
    (as Go's TestOpen)."""
    message = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG
    message += ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    opened = open_note(message, [PETER])
    assert len(opened.verified) == 1
    assert len(opened.unverified) == 2


def test_two_known_keys_with_the_same_name_and_id_are_ambiguous() -> None:
    """A key listed twice cannot tell which one a signature is by."""
    with pytest.raises(AmbiguousKeyError):
        open_note(TEXT + "\n" + ENOCH_SIG, [ENOCH, PETER, ENOCH])
    assert open_note(TEXT + "\n" + PETER_SIG, [ENOCH, PETER, ENOCH]).verified_by() == {
        "PeterNeumann"
    }


@pytest.mark.parametrize(
    "message",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[-1],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
    ids=[
        "no signatures",
        "blank line only",
        "no final newline",
        "control character",
        "not UTF-8",
        "space in key name",
        "stray line",
        "101 signatures",
    ],
)
def test_malformed_notes_are_refused(message: str | bytes) -> None:
    """Go's malformed notes are refused as note.malformed."""
    with pytest.raises(MalformedNoteError) as caught:
        open_note(message, [PETER])
    assert caught.value.code == "note.malformed"


def test_mangled_keys_are_refused() -> None:
    """Every proper substring of the vector keys, and every one-character change, is refused
    (as Go's TestNewVerifier and TestNewSigner)."""
    for key, parse in ((PETER_VKEY, Verifier.from_vkey), (PETER_SKEY, Signer.from_skey)):
        variants = {key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)}
        variants |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
        variants.discard(key)
        for variant in variants:
            with pytest.raises(InvalidKeyError):
                parse(variant)


def test_generated_keys_round_trip() -> None:
    """A generated key pair parses back, and the two halves agree on name and ID."""
    skey, vkey = generate_key("example.org/log")
    signer, verifier = Signer.from_skey(skey), Verifier.from_vkey(vkey)
    assert skey.startswith("PRIVATE+KEY+example.org/log+")
    assert (signer.name, signer.key_id) == (verifier.name, verifier.key_id)
    signature = signer.sign(TEXT)
    assert verifier.verify(TEXT.encode(), signature.signature)
    assert not verifier.verify(TEXT.encode() + b"!", signature.signature)


@pytest.mark.parametrize("name", ["", "a+b", "two words", "tab\tname"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    """Key names are non-empty, without spaces or plus signs."""
    with pytest.raises(InvalidKeyError):
        generate_key(name)


def test_only_texts_ending_in_a_newline_are_signed() -> None:
    """A note text must end in a newline."""
    with pytest.raises(MalformedNoteError):
        sign_note(Note("no newline"), Signer.from_skey(PETER_SKEY))
