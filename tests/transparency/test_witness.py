"""Witness cosignatures (c2sp.org/tlog-cosignature v1) and a witness's consistency check."""

from __future__ import annotations

import base64
from hashlib import sha256

import pytest

from govflow.transparency import (
    Checkpoint,
    CosignatureVerifier,
    Cosigner,
    InconsistentLogError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedCheckpointError,
    MerkleTree,
    RolledBackLogError,
    Signer,
    UnknownCheckpointError,
    UnknownWitnessError,
    UnverifiedNoteError,
    Verifier,
    WitnessState,
    accept_cosignatures,
    check_extends,
    cosign,
    generate_key,
    generate_witness_key,
    open_note,
    parse_note,
    sign_note,
    verifier_from_vkey,
    with_signatures,
)
from govflow.transparency.witness import cosignature_key_id, cosigned_message

ORIGIN = "example.org/log"
LOG = Signer.from_skey(generate_key(ORIGIN)[0])
SEED = sha256(b"govflow witness test").digest()
WHEN = 1679315147


def tree(leaves: int, salt: bytes = b"") -> MerkleTree:
    built = MerkleTree()
    for i in range(leaves):
        built.append(sha256(salt + i.to_bytes(4, "big")).digest())
    return built


def note_of(t: MerkleTree, size: int | None = None) -> str:
    size = t.size if size is None else size
    return Checkpoint(ORIGIN, size, t.root(size)).sign(LOG)


def test_a_cosignature_signs_the_header_the_time_and_the_body() -> None:
    """The line is key ID ‖ 8-byte time ‖ Ed25519 over 'cosignature/v1', 'time T', the body."""
    cosigner = Cosigner("witness.example/w1", SEED, clock=lambda: WHEN)
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    line = parse_note(sign_note(body, cosigner)).signatures[0]
    assert line.key_id == cosignature_key_id("witness.example/w1", cosigner.verifier.public_key)
    assert line.signature[:8] == WHEN.to_bytes(8, "big") and len(line.signature) == 72
    expected = (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    assert cosigned_message(body, WHEN) == expected
    assert Verifier("witness.example/w1", cosigner.verifier.public_key).verify(
        expected, line.signature[8:]
    )
    # Ed25519 is deterministic: a pinned line catches any change to the message or layout.
    assert base64.b64encode(line.key_id.to_bytes(4, "big") + line.signature).decode() == (
        PINNED_LINE
    )


PINNED_LINE = (
    "8SrHpQAAAABkGFDLr8gPqEFe8LkqBz1fS764FXHP++SZla1/V1dJ"
    "CXHnpxW955S6MB12N/zuNYPHMfObPoNDphzUWwMvzQ6egH1cAA=="
)


def test_witness_keys_are_type_4_and_round_trip() -> None:
    """A witness key is a note key of type 0x04, its ID hashed with 0x04; a log key is refused."""
    skey, vkey = generate_witness_key("street-office.example/witness")
    cosigner = Cosigner.from_skey(skey)
    assert cosigner.skey == skey and cosigner.verifier.vkey == vkey
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    assert isinstance(verifier_from_vkey(vkey), CosignatureVerifier)
    assert type(verifier_from_vkey(LOG.verifier.vkey)) is Verifier
    with pytest.raises(InvalidKeyError, match="witness key"):
        CosignatureVerifier.from_vkey(LOG.verifier.vkey)
    with pytest.raises(InvalidKeyError):
        Verifier.from_vkey(vkey)
    forged = vkey.split("+", 2)
    forged[1] = "00000000"
    with pytest.raises(InvalidKeyError, match="key ID"):
        CosignatureVerifier.from_vkey("+".join(forged))


def test_a_cosigned_checkpoint_opens_with_the_log_and_witness_keys() -> None:
    """The note carries the log's signature and the witness's; open_note checks both."""
    cosigner = Cosigner("w.example/1", SEED)
    note = note_of(tree(5))
    both = with_signatures(note, parse_note(cosign(note, cosigner)).signatures)
    opened = open_note(both, [LOG.verifier, cosigner.verifier])
    assert opened.verified_by() == {ORIGIN, "w.example/1"}
    tampered = both.replace("\n5\n", "\n6\n")
    with pytest.raises(InvalidSignatureError):
        open_note(tampered, [LOG.verifier, cosigner.verifier])
    # The same key as a plain note key (type 0x01) has another key ID: its line is not checked.
    plain = Verifier("w.example/1", cosigner.verifier.public_key)
    assert "w.example/1" not in open_note(both, [LOG.verifier, plain]).verified_by()


def test_the_server_accepts_only_expected_witnesses() -> None:
    """A posted cosignature by an expected witness is accepted; an unknown key or a forged
    signature or another checkpoint's note is refused."""
    w1, stranger = Cosigner("w.example/1", SEED), Cosigner("w.example/2", bytes(32))
    note = note_of(tree(7))
    posted = cosign(note, w1)
    accepted = accept_cosignatures(note, posted, [w1.verifier])
    assert [s.name for s in accepted] == ["w.example/1"]
    line = posted.split("\n\n", 1)[1]
    assert accept_cosignatures(note, line, [w1.verifier]) == accepted  # a bare line too
    full = with_signatures(note, accepted)  # the whole note: the log's own line is skipped
    assert accept_cosignatures(note, full, [w1.verifier]) == accepted
    with pytest.raises(UnknownWitnessError) as unknown:
        accept_cosignatures(note, cosign(note, stranger), [w1.verifier])
    assert unknown.value.code == "witness.unknown"
    other = note_of(tree(8))
    with pytest.raises(UnknownCheckpointError):
        accept_cosignatures(note, cosign(other, w1), [w1.verifier])
    moved = parse_note(cosign(other, w1)).signatures[0].line()
    with pytest.raises(InvalidSignatureError):
        accept_cosignatures(note, moved, [w1.verifier])


def test_a_witness_follows_a_growing_log() -> None:
    """First run: trusted as is; then a larger tree with a valid consistency proof."""
    log = tree(13)
    first = check_extends(None, note_of(log, 5), LOG.verifier, lambda m, n: [])
    state = WitnessState(ORIGIN, LOG.verifier.vkey, first.size, first.root, note_of(log, 5))
    assert WitnessState.from_json(state.to_json()) == state
    asked: list[tuple[int, int]] = []

    def proof(m: int, n: int) -> list[bytes]:
        asked.append((m, n))
        return log.consistency_proof(m, n)

    grown = check_extends(state, note_of(log), LOG.verifier, proof)
    assert grown.size == 13 and asked == [(5, 13)]
    assert check_extends(state, note_of(log, 5), LOG.verifier, proof).size == 5  # unchanged


def test_a_rewritten_log_is_refused() -> None:
    """A log whose fifth leaf changed cannot prove the old root is a prefix of its new one."""
    log, rewritten = tree(13), tree(13, salt=b"x")
    state = WitnessState(ORIGIN, LOG.verifier.vkey, 5, log.root(5), note_of(log, 5))
    with pytest.raises(InconsistentLogError) as refused:
        check_extends(state, note_of(rewritten), LOG.verifier, rewritten.consistency_proof)
    assert refused.value.code == "witness.inconsistent"
    with pytest.raises(InconsistentLogError):  # the same size, another root: a fork
        check_extends(state, note_of(rewritten, 5), LOG.verifier, rewritten.consistency_proof)
    with pytest.raises(RolledBackLogError) as back:
        check_extends(state, note_of(log, 4), LOG.verifier, log.consistency_proof)
    assert back.value.code == "witness.rollback"


def test_a_checkpoint_of_another_log_or_key_is_refused() -> None:
    """The log's key must sign, and the origin must be the log key's name."""
    other = Signer.from_skey(generate_key("example.org/other")[0])
    log = tree(3)
    foreign = Checkpoint("example.org/other", 3, log.root()).sign(other)
    with pytest.raises(UnverifiedNoteError):
        check_extends(None, foreign, LOG.verifier, log.consistency_proof)
    renamed = Checkpoint(ORIGIN, 3, log.root()).sign(other)
    with pytest.raises(UnverifiedNoteError):
        check_extends(None, renamed, LOG.verifier, log.consistency_proof)
    misnamed = Checkpoint("example.org/else", 3, log.root()).sign(LOG)
    with pytest.raises(MalformedCheckpointError):
        check_extends(None, misnamed, LOG.verifier, log.consistency_proof)


def test_the_verifier_requires_each_named_witness() -> None:
    """``govflow verify --witness`` takes a witness key: its cosignature must be on the note."""
    from govflow.transparency.export_verify import MissingWitnessError, open_signed

    w1, w2 = Cosigner("w.example/1", SEED), Cosigner("w.example/2", bytes(32))
    note = note_of(tree(9))
    cosigned = with_signatures(note, parse_note(cosign(note, w1)).signatures)
    keys = [verifier_from_vkey(w1.verifier.vkey)]
    checkpoint, witnesses = open_signed(cosigned, [LOG.verifier], keys)
    assert checkpoint.size == 9 and witnesses == ("w.example/1",)
    with pytest.raises(MissingWitnessError):
        open_signed(cosigned, [LOG.verifier], [*keys, w2.verifier])
