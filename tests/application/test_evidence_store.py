"""Uploaded files behind one small interface: a directory (one host's disk) or the event
store's own database (SQLite, PostgreSQL), which API processes on several hosts share."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application.evidence_store import (
    DatabaseEvidence,
    DirectoryEvidence,
    EvidenceStore,
    InMemoryEvidence,
    copy_evidence,
    database_evidence,
)
from govflow.application.migration import migrate
from govflow.application.specimens import SteppingClock, play
from govflow.bootstrap import Settings, build_evidence
from govflow.domain.errors import InvalidInputError
from tests.conftest import POSTGRES, postgres_env

SCAN = b"%PDF-1.4 \xe5\xa7\x94\xe6\x89\x98\xe4\xb9\xa6 scan"
DIGEST = hashlib.sha256(SCAN).hexdigest()


def _sqlite(path: Path) -> Governance:
    return Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)},
        clock=SteppingClock(),
    )


@pytest.fixture(params=["directory", "memory", "sqlite", POSTGRES])
def evidence(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EvidenceStore]:
    if request.param == "directory":
        yield DirectoryEvidence(tmp_path / "evidence")
        return
    if request.param == "memory":
        yield InMemoryEvidence()
        return
    if request.param == "sqlite":
        app = _sqlite(tmp_path / "events.db")
    else:
        app = Governance(postgres_env(request.getfixturevalue("postgres_db")))
    store = database_evidence(app)
    assert isinstance(store, DatabaseEvidence)
    yield store
    app.close()


def test_a_file_is_kept_by_its_sha256_and_read_back(evidence: EvidenceStore) -> None:
    assert not evidence.exists(DIGEST) and evidence.get(DIGEST) is None
    evidence.put(DIGEST, SCAN)
    assert evidence.exists(DIGEST) and evidence.get(DIGEST) == SCAN
    big = bytes(range(256)) * 8192  # 2 MiB, every byte value
    evidence.put(hashlib.sha256(big).hexdigest(), big)
    assert evidence.get(hashlib.sha256(big).hexdigest()) == big
    assert list(evidence.digests()) == sorted([DIGEST, hashlib.sha256(big).hexdigest()])


def test_putting_the_same_file_again_changes_nothing(evidence: EvidenceStore) -> None:
    evidence.put(DIGEST, SCAN)
    evidence.put(DIGEST, SCAN)
    assert evidence.get(DIGEST) == SCAN and list(evidence.digests()) == [DIGEST]


def test_bytes_that_do_not_match_their_digest_are_refused(evidence: EvidenceStore) -> None:
    with pytest.raises(InvalidInputError, match="does not match"):
        evidence.put(DIGEST, SCAN + b"tampered")
    with pytest.raises(InvalidInputError, match="sha256"):
        evidence.put(DIGEST.upper(), SCAN)
    assert not evidence.exists(DIGEST) and list(evidence.digests()) == []


@pytest.mark.parametrize("name", ["../events.db", "/etc/passwd", "..", "", "0" * 63, "g" * 64])
def test_a_name_that_is_not_a_digest_is_never_a_path(
    evidence: EvidenceStore, name: str, tmp_path: Path
) -> None:
    (tmp_path / "evidence").mkdir(exist_ok=True)
    (tmp_path / "events.db").touch()
    assert evidence.get(name) is None and not evidence.exists(name)
    with pytest.raises(InvalidInputError):
        evidence.put(name, SCAN)


def test_a_directory_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = DirectoryEvidence(tmp_path / "evidence")
    store.put(DIGEST, SCAN)
    assert [p.name for p in (tmp_path / "evidence").iterdir()] == [DIGEST]
    assert (tmp_path / "evidence" / DIGEST).read_bytes() == SCAN


@pytest.mark.postgres
def test_two_installations_on_one_postgres_database_see_each_others_files(
    postgres_db: str,
) -> None:
    """Two processes (two Governance objects, as on two hosts) over the same database: a file
    one keeps, the other serves."""
    first, second = Governance(postgres_env(postgres_db)), Governance(postgres_env(postgres_db))
    try:
        database_evidence(first).put(DIGEST, SCAN)
        assert database_evidence(second).get(DIGEST) == SCAN
        other = b"progress photo"
        database_evidence(second).put(hashlib.sha256(other).hexdigest(), other)
        assert database_evidence(first).exists(hashlib.sha256(other).hexdigest())
    finally:
        first.close()
        second.close()


def test_the_setting_chooses_the_store(tmp_path: Path) -> None:
    app = _sqlite(tmp_path / "events.db")
    try:
        default = build_evidence(Settings(data_dir=tmp_path), app)
        assert isinstance(default, DirectoryEvidence)
        assert default.directory == tmp_path / "evidence"
        shared = build_evidence(Settings(data_dir=tmp_path, evidence_store="database"), app)
        shared.put(DIGEST, SCAN)
        assert database_evidence(app).get(DIGEST) == SCAN  # in the events' own database
        assert not (tmp_path / "evidence").exists()
    finally:
        app.close()


def test_copy_evidence_copies_what_the_target_lacks(tmp_path: Path) -> None:
    """From a directory into a database (switching an installation over), checked again."""
    source, target = DirectoryEvidence(tmp_path / "evidence"), InMemoryEvidence()
    source.put(DIGEST, SCAN)
    other = b"sign-in sheet"
    source.put(hashlib.sha256(other).hexdigest(), other)
    target.put(DIGEST, SCAN)
    assert copy_evidence(source, target) == 1
    assert copy_evidence(source, target) == 0
    assert list(target.digests()) == list(source.digests())


@pytest.mark.postgres
def test_migrate_copies_the_files_kept_in_the_database(tmp_path: Path, postgres_db: str) -> None:
    """``govflow migrate`` SQLite → PostgreSQL brings the files kept beside the events."""
    source = _sqlite(tmp_path / "events.db")
    play(source)
    database_evidence(source).put(DIGEST, SCAN)
    target = Governance(postgres_env(postgres_db))
    try:
        report = migrate(source, target)
        assert report.evidence_files == 1
        assert database_evidence(target).get(DIGEST) == SCAN
        assert migrate(source, target, resume=True).evidence_files == 0  # again: nothing new
    finally:
        source.close()
        target.close()
