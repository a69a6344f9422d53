"""The award decision (quyết định) and its certificates list, from an ``AwardDecision`` and its
awardees (the ``Decision`` rows pointing at it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import translation
from django.utils.translation import pgettext

from processes.documents.layout import Column, Header, Paper, Signature, document_language, head_titles, short_date
from processes.documents.places import parent_name, place_of
from processes.documents.text import document_text
from processes.models import AwardDecision, Decision, NomineeKind
from processes.organisation import OrgTree


@dataclass(frozen=True)
class Awardee:
    name: str
    position_unit: str
    award_form: str


@dataclass(frozen=True)
class DecisionPaper:
    header: Header
    number: str
    signed_on: date
    authority: str  # who decides, as the line above the grounds says it: "Chủ tịch UBND thành phố"
    subject: str
    grounds: tuple[str, ...]
    articles: tuple[tuple[str, str], ...]  # (label, text)
    awardees: tuple[Awardee, ...]
    annex_subject: str
    annex_note: str
    signature: Signature
    recipients: tuple[str, ...]

    @property
    def kind(self) -> str:
        return pgettext("document", "Decision")

    @property
    def annex_kind(self) -> str:
        return pgettext("document", "List")


def _joined(names) -> str:
    return ", ".join(dict.fromkeys(names))


def awardee_of(award: Decision) -> Awardee:
    nomination = award.nomination
    nominee = nomination.nominee
    if nominee.kind == NomineeKind.INDIVIDUAL and nominee.position:
        where = f"{nominee.position}, {nominee.unit.name}"
    else:
        where = nominee.unit.name
    return Awardee(name=nominee.name, position_unit=where, award_form=nomination.award_form.name)


def decision_paper(document: AwardDecision) -> DecisionPaper:
    """Everything the decision says, read in a fixed number of queries whatever its awardees."""
    awards = document.awards.select_related(
        "nomination__nominee__unit", "nomination__award_form", "nomination__campaign"
    ).order_by("nomination__award_form__code", "pk")
    awards = list(awards)
    tree = OrgTree.on(document.signed_on)
    issuer = document.issuer
    with translation.override(document_language()):
        head, deputy = head_titles(issuer.kind)
        authority = f"{head} {issuer.name}"
        forms = _joined(award.nomination.award_form.name for award in awards)
        campaigns = _joined(award.nomination.campaign.name for award in awards)
        number = document.number
        articles = (
            (
                _article(1),
                pgettext(
                    "document",
                    "To award %(forms)s to the %(count)s collectives and individuals listed in the annex to this "
                    "decision, for their outstanding achievements in %(campaigns)s.",
                )
                % {"forms": forms, "count": len(awards), "campaigns": campaigns},
            ),
            (_article(2), pgettext("document", "This decision takes effect on the day it is signed.")),
            (
                _article(3),
                pgettext("document", "%(executors)s are responsible for carrying out this decision.")
                % {"executors": document_text("decision_executors")},
            ),
        )
        signer = document.signer
        return DecisionPaper(
            header=Header(
                issuer=issuer.name,
                parent=parent_name(issuer.pk, tree),
                number=number,
                place=place_of(issuer.pk, tree),
                day=document.signed_on,
            ),
            number=number,
            signed_on=document.signed_on,
            authority=authority,
            subject=pgettext("document", "On awarding %(forms)s") % {"forms": forms},
            grounds=(*document_text("decision_grounds"), document_text("decision_proposed_by")),
            articles=articles,
            awardees=tuple(awardee_of(award) for award in awards),
            annex_subject=pgettext("document", "Collectives and individuals awarded %(forms)s") % {"forms": forms},
            annex_note=pgettext("document", "(Annexed to Decision No. %(number)s of %(date)s of the %(authority)s)")
            % {"number": number, "date": short_date(document.signed_on), "authority": authority},
            signature=Signature(
                head_title=head,
                deputy_title=deputy,
                on_behalf=document.on_behalf,
                name=signer.get_full_name() or signer.get_username(),
            ),
            recipients=tuple(document_text("decision_recipients")),
        )


def _article(number: int) -> str:
    return pgettext("document", "Article %(number)s.") % {"number": number}


def awardee_columns() -> list[Column]:
    return [
        Column(pgettext("document", "No."), 12),
        Column(pgettext("document", "Full name / name"), 55),
        Column(pgettext("document", "Position, unit"), 55),
        Column(pgettext("document", "Award form"), 43),
    ]


def awardee_rows(paper: DecisionPaper) -> list[list[str]]:
    return [
        [str(index), awardee.name, awardee.position_unit, awardee.award_form]
        for index, awardee in enumerate(paper.awardees, start=1)
    ]


def decision_docx(paper: DecisionPaper) -> bytes:
    """The decision with its annex of awardees, as a .docx."""
    with translation.override(document_language()):
        out = Paper()
        out.header(paper.header)
        out.title(paper.kind, paper.subject)
        out.centred(paper.authority.upper(), bold=True, after=12)
        for ground in paper.grounds:
            out.body(ground)
        out.centred(f"{paper.kind.upper()}:", bold=True, before=6, after=6)
        for label, text in paper.articles:
            out.body(text, lead=label)
        out.signature(paper.signature, paper.recipients)
        out.page_break()
        out.title(paper.annex_kind, paper.annex_subject)
        out.centred(paper.annex_note, italic=True, after=12)
        out.table(awardee_columns(), awardee_rows(paper))
        return out.to_bytes()


def certificates_columns() -> list[Column]:
    return [
        *awardee_columns()[:2],
        Column(pgettext("document", "Position, unit"), 45),
        Column(pgettext("document", "Award form"), 35),
        Column(pgettext("document", "Received by (signature)"), 28),
    ]


def certificates_docx(paper: DecisionPaper) -> bytes:
    """The certificates list (danh sách cấp bằng, giấy khen): one row per awardee, a column to sign
    on receipt."""
    with translation.override(document_language()):
        out = Paper()
        out.header(Header(issuer=paper.header.issuer, parent=paper.header.parent))
        out.title(pgettext("document", "List of certificates issued"), paper.annex_note)
        out.line("")
        out.table(certificates_columns(), [[*row, ""] for row in awardee_rows(paper)])
        return out.to_bytes()
