"""Annual ratings (分类定级) through the command door, on every store: a year rated, published,
objected to, revised; and every refusal leaves the record as it was."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.annual_rating_library import RatingProcedureLibrary
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.annual_rating import (
    AlreadyScoredError,
    AnnualRatingObjectionUpheld,
    AnnualRatingOpened,
    AnnualRatingPublished,
    AnnualRatingRevised,
    CriterionScored,
    EvidenceMissingError,
    RatingPanelError,
    RatingStateError,
    ScoresIncompleteError,
    UnknownCriterionError,
    UnknownRaterError,
    annual_rating_id,
)
from govflow.domain.council import Body
from govflow.domain.errors import (
    ForbiddenError,
    GovflowError,
    InvalidProcedureError,
    ObjectionWindowClosedError,
)
from govflow.domain.notice import NoticeCorrected, ObjectionAnswered, ObjectionFiled
from govflow.orchestration.door import CommandDoor
from tests.application.annual_rating_story import (
    ALL_88,
    PRESET,
    RATED,
    WORKFLOWS,
    YEAR,
    evidence,
    preset,
    run,
    score,
    score_all,
    set_up_rated_council,
)

OPEN = c.OpenAnnualRating(council=RATED, year=YEAR)


def topics(app: Governance) -> list[str]:
    return [type(e).TOPIC for e in app.domain_events(annual_rating_id(RATED, YEAR))]


def log_size(app: Governance) -> int:
    return app.recorder.max_notification_id() or 0


def test_a_year_rated_published_objected_to_and_revised(app: Governance) -> None:
    """The raters score with evidence, the grade follows (88 → 较好), the result is posted with
    its objection window; a member's objection upheld reopens the scores, the finances are
    scored again (98), and the revised result (90 → 好, the bound included) names the
    objection; the notice is corrected and every step stays in the history."""
    door = set_up_rated_council(app)
    view = run(door, "s1", OPEN)
    assert view.panel == ["s1", "s2"] and view.procedure == f"{PRESET}@1"
    assert view.procedure_digest == preset().digest
    score_all(door, ALL_88)
    notice_id = run(door, "s2", c.PublishAnnualRating(council=RATED, year=YEAR))
    published = app.get_annual_rating(RATED, YEAR)
    assert (published.score, published.grade, published.grade_label) == (
        Decimal("88.00"),
        "fairly_good",
        "较好",
    )
    notice = app.get_notice(notice_id)
    assert "较好" in notice.text and notice.objection_until is not None
    assert "评定人：街道评定员甲、街道评定员乙" in notice.text
    assert notice.subject_id == published.id

    objection = c.ObjectToAnnualRating(council=RATED, year=YEAR, text="财务台账漏查了第四季度")
    assert run(door, "m1", objection) == 1
    answer = c.AnswerAnnualRatingObjection(
        council=RATED, year=YEAR, objection_no=1, reply="经核实，异议成立", upheld=True
    )
    assert run(door, "s1", answer) is True
    assert app.get_annual_rating(RATED, YEAR).status == "revising"
    score_all(door, {"finances": "98"})
    revised = run(door, "s2", c.ReviseAnnualRating(council=RATED, year=YEAR))
    assert (revised.score, revised.grade_label, revised.status) == (
        Decimal("90.00"),
        "好",
        "published",
    )

    events = list(app.domain_events(annual_rating_id(RATED, YEAR)))
    assert isinstance(events[0], AnnualRatingOpened)
    assert sum(isinstance(e, CriterionScored) for e in events) == 2 * 5 + 2
    upheld = next(e for e in events if isinstance(e, AnnualRatingObjectionUpheld))
    assert (upheld.objection_no, upheld.round, upheld.notice_id) == (1, 2, notice_id)
    last = events[-1]
    assert isinstance(last, AnnualRatingRevised)
    assert last.objections == (1,) and last.previous_grade == "fairly_good"
    assert (last.previous_score, last.score, last.grade) == (
        Decimal("88.00"),
        Decimal("90.00"),
        "good",
    )
    assert any(isinstance(e, AnnualRatingPublished) for e in events)  # the first result kept
    notice_events = list(app.domain_events(notice_id))
    assert [type(e) for e in notice_events[1:]] == [
        ObjectionFiled,
        ObjectionAnswered,
        NoticeCorrected,
    ]
    (row,) = app.list_annual_ratings(RATED)
    assert (row.year, row.grade, row.score, row.revisions) == (YEAR, "good", Decimal("90.00"), 1)
    listed = [n for n in app.list_notices(RATED) if n.id == notice_id]
    assert listed and listed[0].subject == "annual_rating" and listed[0].corrected
    feed, _ = app.read_council_feed(RATED, limit=1000)
    fed = {e.topic for e in feed}
    assert {type(e).TOPIC for e in events} <= fed  # the year's events are its council's
    corrected = app.get_notice(notice_id)
    assert "好" in corrected.text and "第1号" in corrected.text and "原定级 较好" in corrected.text


def test_an_objection_not_upheld_leaves_the_result(app: Governance) -> None:
    """An objection answered as not upheld is recorded on the notice; the result stands and
    cannot be revised."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    score_all(door, ALL_88)
    run(door, "s1", c.PublishAnnualRating(council=RATED, year=YEAR))
    run(door, "c1", c.ObjectToAnnualRating(council=RATED, year=YEAR, text="评分偏低"))
    run(door, "s2", c.AnswerAnnualRatingObjection(
        council=RATED, year=YEAR, objection_no=1, reply="依据充分，维持", upheld=False
    ))  # fmt: skip
    assert app.get_annual_rating(RATED, YEAR).status == "published"
    with pytest.raises(RatingStateError):
        run(door, "s1", c.ReviseAnnualRating(council=RATED, year=YEAR))
    with pytest.raises(RatingStateError):
        run(door, "s1", score("finances", "99"))


def refused(app: Governance, door: object, who: str, command: c.Command) -> GovflowError:
    before, rating_events = log_size(app), topics(app)
    with pytest.raises(GovflowError) as caught:
        run(door, who, command)  # type: ignore[arg-type]
    assert log_size(app) == before and topics(app) == rating_events
    return caught.value


def test_refusals_leave_no_event(app: Governance) -> None:
    """An unknown rater, a score without its evidence, an unknown criterion, a second score,
    a result before every score, objections before publication: each refused, nothing
    recorded."""
    door = set_up_rated_council(app)
    # the council's own people never rate it: not its clerk, chair, member or auditor
    for who in ("k1", "c1", "m1", "a1"):
        assert isinstance(refused(app, door, who, OPEN), ForbiddenError)
    run(door, "s1", OPEN)
    # a rater enrolled after the year's panel was frozen is unknown to this year's rating
    app.enroll_member(RATED, "s3", "新评定员", actor="clerk", roles=("street_rater",))
    assert isinstance(refused(app, door, "s3", score("finances", "80")), UnknownRaterError)
    missing = c.ScoreCriterion(
        council=RATED, year=YEAR, criterion="organisation", score=Decimal(80),
        evidence=evidence("organisation", skip="member_register"),
    )  # fmt: skip
    error = refused(app, door, "s1", missing)
    assert isinstance(error, EvidenceMissingError) and error.details["missing"] == [
        "member_register"
    ]
    nothing = c.ScoreCriterion(council=RATED, year=YEAR, criterion="finances", score=Decimal(80))
    assert isinstance(refused(app, door, "s1", nothing), EvidenceMissingError)
    parking = c.ScoreCriterion(
        council=RATED, year=YEAR, criterion="parking", score=Decimal(80),
        evidence=evidence("finances"),
    )  # fmt: skip
    assert isinstance(refused(app, door, "s1", parking), UnknownCriterionError)
    run(door, "s1", score("finances", "80"))
    assert isinstance(refused(app, door, "s1", score("finances", "81")), AlreadyScoredError)
    publish = c.PublishAnnualRating(council=RATED, year=YEAR)
    assert isinstance(refused(app, door, "s2", publish), ScoresIncompleteError)
    objection = c.ObjectToAnnualRating(council=RATED, year=YEAR, text="异议")
    assert isinstance(refused(app, door, "m1", objection), RatingStateError)
    # a second opening of the same year
    assert refused(app, door, "s2", OPEN).code == "already_exists"


def test_a_rater_enrolled_again_is_not_on_the_years_panel(app: Governance) -> None:
    """A rater who left and a new person enrolled under the same id (given the role) is
    another person: not on the panel frozen when the year opened, so they neither score,
    publish nor answer an objection, and nothing is recorded."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    score_all(door, ALL_88, raters=("s2",))
    app.remove_member(RATED, "s1", actor="clerk")
    app.enroll_member(RATED, "s1", "另一个人", actor="clerk", roles=("street_rater",))
    assert isinstance(refused(app, door, "s1", score("finances", "80")), UnknownRaterError)
    publish = c.PublishAnnualRating(council=RATED, year=YEAR)
    assert isinstance(refused(app, door, "s1", publish), UnknownRaterError)


def test_a_year_not_begun_cannot_be_rated(app: Governance) -> None:
    """A rating is of a year that has begun: next year's (or 2099's) is refused and nothing
    is recorded, so the board never shows a grade for a year still to come."""
    door = set_up_rated_council(app)
    for year in (app.now().year + 1, 2099):
        error = refused(app, door, "s1", c.OpenAnnualRating(council=RATED, year=year))
        assert error.code == "input.invalid"


def test_out_of_range_scores_are_refused(app: Governance) -> None:
    """A score below 0, above 100 or finer than one decimal never reaches the record: the
    command refuses it, and so does the aggregate if handed one."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    for bad in ("-1", "100.1", "85.25"):
        with pytest.raises(ValueError):
            score("finances", bad)
    rating = app.annual_rating(RATED, YEAR)
    before = rating.version
    for bad in ("-0.1", "101", "85.25", "NaN"):
        with pytest.raises(GovflowError) as caught:
            rating.score_criterion(
                "finances", Decimal(bad), (), at=app.now(), actor="s1",
                enrolment=app.council(RATED).members["s1"].enrolment,
            )  # fmt: skip
        assert caught.value.code == "annual_rating.score_out_of_range"
    assert rating.version == before and not rating.collect_events()


def test_a_score_in_exponent_form_is_recorded_plainly(app: Governance) -> None:
    """``1e2`` is a valid score of 100, recorded (and shown on the board and in the feed) as
    ``100``, never as ``1E+2``; ``-0`` is recorded as ``0``."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    run(door, "s1", score("finances", "1e2"))
    run(door, "s1", score("services", "-0"))
    scored = [
        e
        for e in app.domain_events(annual_rating_id(RATED, YEAR))
        if isinstance(e, CriterionScored)
    ]
    assert [str(e.score) for e in scored] == ["100", "0"]
    assert scored[0].model_dump(mode="json")["score"] == "100"


def test_a_panel_too_small_cannot_open(app: Governance) -> None:
    """The preset asks for two raters: with one on the record the year cannot open. Someone
    given the role who sits on a body, keeps the roll or audits is no rater (an auditor could
    never score, and the year could never be published)."""
    door = set_up_rated_council(app)
    app.remove_member(RATED, "s2", actor="clerk")
    app.change_member(RATED, "c1", actor="clerk", roles=("street_rater",),
                      chairs=(Body.TWO_COMMITTEES,))  # fmt: skip
    app.change_member(RATED, "k1", actor="clerk", roles=("clerk", "street_rater"))
    app.change_member(RATED, "a1", actor="clerk", roles=("auditor", "street_rater"))
    assert isinstance(refused(app, door, "s1", OPEN), RatingPanelError)
    assert isinstance(refused(app, door, "c1", OPEN), ForbiddenError)


def test_the_window_closes_objections(app: Governance) -> None:
    """After the objection window an objection is refused and nothing is recorded."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    score_all(door, ALL_88)
    notice_id = run(door, "s1", c.PublishAnnualRating(council=RATED, year=YEAR))
    until = app.get_notice(notice_id).objection_until
    assert until is not None
    clock = app.clock
    app.clock = lambda: until
    try:
        objection = c.ObjectToAnnualRating(council=RATED, year=YEAR, text="迟到的异议")
        assert isinstance(refused(app, door, "m1", objection), ObjectionWindowClosedError)
    finally:
        app.clock = clock


def test_one_score_per_rater_per_criterion_under_concurrency(app: Governance) -> None:
    """The same rater's score sent eight times at once is recorded once; the others are
    refused as already scored (each decided again on the record as it then stood)."""
    door = set_up_rated_council(app)
    run(door, "s1", OPEN)
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def send(points: str) -> None:
        barrier.wait()
        try:
            outcomes.append(run(door, "s1", score("services", points)))
        except GovflowError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=send, args=(f"{70 + i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    scored = [
        e
        for e in app.domain_events(annual_rating_id(RATED, YEAR))
        if isinstance(e, CriterionScored)
    ]
    assert len(scored) == 1
    refusals = [o for o in outcomes if isinstance(o, GovflowError)]
    assert len(refusals) == 7 and all(isinstance(r, AlreadyScoredError) for r in refusals)


def test_a_councils_own_rating_procedure_is_found_beside_its_procedures(
    app: Governance, tmp_path: Path
) -> None:
    """A rating procedure in ``ratings/`` of a procedure directory given after the presets
    (``GOVFLOW_WORKFLOWS_DIR``) can be opened by name; a file whose weights do not add up
    stops the library from loading."""
    own = tmp_path / "own"
    (own / "ratings").mkdir(parents=True)
    text = (WORKFLOWS / "ratings" / f"{PRESET}.v1.yaml").read_text(encoding="utf-8")
    (own / "ratings" / "local-rating.v1.yaml").write_text(
        text.replace(f"name: {PRESET}", "name: local-rating"), encoding="utf-8"
    )
    set_up_rated_council(app)
    door = CommandDoor(app, None, ProcedureLibrary(WORKFLOWS, own))
    view = run(door, "s1", c.OpenAnnualRating(council=RATED, year=YEAR, procedure="local-rating"))
    assert view.procedure == "local-rating@1"
    (own / "ratings" / "local-rating.v2.yaml").write_text(
        text.replace(f"name: {PRESET}", "name: local-rating")
        .replace("version: 1", "version: 2")
        .replace("weight: 15", "weight: 16"),
        encoding="utf-8",
    )
    with pytest.raises(InvalidProcedureError, match="sum to 101"):
        RatingProcedureLibrary(WORKFLOWS, own)
