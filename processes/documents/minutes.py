"""The council's vote-count minutes (biên bản kiểm phiếu) of a closed session: per case, the members
who could vote, the ballots cast, for, against, abstentions and the result. Secret ballot: the paper
names no voter and no member (not even who was recused); it reads only the session's counts."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone, translation
from django.utils.translation import pgettext

from processes.documents.layout import Column, Header, Paper, Signature, document_language
from processes.documents.places import parent_name, place_of
from processes.documents.text import document_text
from processes.organisation import OrgTree
from workflow.models import VoteSession


@dataclass(frozen=True)
class CaseCount:
    case: str
    members: int
    present: int
    yes: int
    no: int
    abstain: int
    result: str


@dataclass(frozen=True)
class MinutesPaper:
    header: Header
    subject: str
    facts: tuple[tuple[str, str], ...]
    counts: tuple[CaseCount, ...]
    statement: str
    signature: Signature
    recipients: tuple[str, ...]

    @property
    def kind(self) -> str:
        return pgettext("document", "Vote-count minutes")


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%H:%M %d/%m/%Y") if value else ""


def minutes_paper(session: VoteSession) -> MinutesPaper:
    """The minutes of a closed ``session`` (the caller checks that it is closed): two queries."""
    items = list(session.items.order_by("pk"))
    returned = session.receipts.count()
    day = timezone.localdate(session.closed_at)
    tree = OrgTree.on(day)
    with translation.override(document_language()):
        counts = tuple(
            CaseCount(
                case=item.subject_label,
                members=item.eligible_count,
                present=(item.yes or 0) + (item.no or 0) + (item.abstain or 0),
                yes=item.yes or 0,
                no=item.no or 0,
                abstain=item.abstain or 0,
                result=item.get_outcome_display(),
            )
            for item in items
        )
        facts = (
            (pgettext("document", "Voting body"), session.council_label),
            (pgettext("document", "Voting opened"), _moment(session.opened_at)),
            (pgettext("document", "Voting closed"), _moment(session.closed_at)),
            (pgettext("document", "Members of the council that day"), str(session.member_count)),
            (pgettext("document", "Members given a ballot"), str(session.ballot_count)),
            (pgettext("document", "Ballots returned"), str(returned)),
        )
        return MinutesPaper(
            header=Header(
                issuer=session.council_label,
                parent=parent_name(session.council_unit_id, tree),
                place=place_of(session.council_unit_id, tree),
                day=day,
            ),
            subject=session.title,
            facts=facts,
            counts=counts,
            statement=pgettext(
                "document",
                "The ballots were secret and were counted after voting closed; no ballot names its voter. "
                "A member who may not vote on a case (it concerns them or their unit) is not counted among "
                "its members.",
            ),
            signature=Signature(head_title=pgettext("document", "The vote-counting team")),
            recipients=tuple(document_text("minutes_recipients")),
        )


def count_columns() -> list[Column]:
    return [
        Column(pgettext("document", "No."), 10),
        Column(pgettext("document", "Case"), 56),
        Column(pgettext("document", "Members"), 18),
        Column(pgettext("document", "Ballots cast"), 18),
        Column(pgettext("document", "For"), 14),
        Column(pgettext("document", "Against"), 14),
        Column(pgettext("document", "Abstain"), 14),
        Column(pgettext("document", "Result"), 21),
    ]


def count_rows(paper: MinutesPaper) -> list[list[str]]:
    return [
        [str(index), c.case, str(c.members), str(c.present), str(c.yes), str(c.no), str(c.abstain), c.result]
        for index, c in enumerate(paper.counts, start=1)
    ]


def minutes_docx(paper: MinutesPaper) -> bytes:
    with translation.override(document_language()):
        out = Paper()
        out.header(paper.header)
        out.title(paper.kind, paper.subject)
        for label, value in paper.facts:
            out.body(value, lead=f"{label}:")
        out.table(count_columns(), count_rows(paper))
        out.line("")
        out.body(paper.statement)
        out.signature(paper.signature, paper.recipients)
        return out.to_bytes()
