"""Checkpoints (c2sp.org/tlog-checkpoint): a tree head as a signed note."""

from __future__ import annotations

import base64

import pytest

from govflow.transparency import (
    Checkpoint,
    MalformedCheckpointError,
    MerkleTree,
    Signer,
    Verifier,
    generate_key,
    leaf_hash,
    open_checkpoint,
    parse_note,
    sign_note,
    verify_consistency,
)

ORIGIN = "example.org/council-log"
# The example body of c2sp.org/tlog-checkpoint (C2SP/C2SP, tlog-checkpoint.md at commit
# 2793893976c835db049c194d8f2c4f946dcb70ba).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def _keys(name: str) -> tuple[Signer, Verifier]:
    skey, vkey = generate_key(name)
    return Signer.from_skey(skey), Verifier.from_vkey(vkey)


def test_the_body_is_origin_size_and_base64_root() -> None:
    """The signed text is the origin, the decimal size and the base64 root, one per line,
    then any extension lines."""
    root = bytes(range(32))
    checkpoint = Checkpoint(ORIGIN, 20, root, ("x-sealed-at 2026-12-07",))
    encoded = base64.b64encode(root).decode()
    assert checkpoint.body() == f"{ORIGIN}\n20\n{encoded}\nx-sealed-at 2026-12-07\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_the_specs_example_parses_and_round_trips() -> None:
    """The checkpoint in the spec's example parses to its origin and size and prints back."""
    checkpoint = Checkpoint.parse(SPEC_BODY)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.body() == SPEC_BODY


def test_a_signed_checkpoint_opens_and_proves_consistency_with_a_later_one() -> None:
    """A log signs checkpoints of a growing tree; a reader holding the older one checks the
    newer one's signature and its consistency."""
    tree = MerkleTree(leaf_hash(b"event %d" % i) for i in range(10))
    log, log_key = _keys(ORIGIN)
    old_note = Checkpoint(ORIGIN, 6, tree.root(6)).sign(log)
    new_note = Checkpoint(ORIGIN, 10, tree.root(10)).sign(log)
    old, _ = open_checkpoint(old_note, [log_key], origin=ORIGIN)
    new, opened = open_checkpoint(new_note, [log_key], origin=ORIGIN)
    assert opened.verified_by() == {ORIGIN}
    verify_consistency(old.size, new.size, old.root, new.root, tree.consistency_proof(6, 10))


def test_witness_cosignatures_are_reported() -> None:
    """A witness's co-signature on the log's checkpoint verifies alongside the log's."""
    log, log_key = _keys(ORIGIN)
    witness, witness_key = _keys("example.org/supervisory-committee")
    signed = Checkpoint(ORIGIN, 1, leaf_hash(b"x")).sign(log)
    cosigned = sign_note(parse_note(signed), witness)
    _, opened = open_checkpoint(cosigned, [log_key, witness_key], origin=ORIGIN)
    assert opened.verified_by() == {ORIGIN, "example.org/supervisory-committee"}


def test_a_checkpoint_of_another_log_is_refused() -> None:
    """A checkpoint whose origin is not the expected log is refused even if the key verifies."""
    log, log_key = _keys(ORIGIN)
    note = Checkpoint("example.org/other-log", 1, leaf_hash(b"x")).sign(log)
    with pytest.raises(MalformedCheckpointError) as caught:
        open_checkpoint(note, [log_key], origin=ORIGIN)
    assert caught.value.code == "checkpoint.malformed"


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n",
        f"{ORIGIN}\n05\n{SPEC_BODY.split()[-1]}\n",
        f"{ORIGIN}\n-5\n{SPEC_BODY.split()[-1]}\n",
        f"{ORIGIN}\n5\nnot base64!\n",
        f"{ORIGIN}\n5\n{base64.b64encode(b'short').decode()}\n",
        f"{ORIGIN}\n5\n{SPEC_BODY.split()[-1]}\n\n",
        f"\n5\n{SPEC_BODY.split()[-1]}\n",
        f"{ORIGIN}\n5\n{SPEC_BODY.split()[-1]}",
    ],
    ids=[
        "two lines",
        "leading zero",
        "negative size",
        "root not base64",
        "root not 32 bytes",
        "empty extension line",
        "empty origin",
        "no final newline",
    ],
)
def test_malformed_bodies_are_refused(body: str) -> None:
    """Bodies that break c2sp.org/tlog-checkpoint raise checkpoint.malformed."""
    with pytest.raises(MalformedCheckpointError):
        Checkpoint.parse(body)
