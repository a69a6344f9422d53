"""What a unit sends up for a campaign: the proposal (tờ trình) and the summary list of its nominees
(danh sách trích ngang), over its nominations in the summarise stage or later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet
from django.utils import translation
from django.utils.translation import pgettext

from processes.documents.layout import Column, Header, Paper, Signature, document_language, head_titles
from processes.documents.places import parent_name, place_of
from processes.documents.text import document_text
from processes.models import Campaign, Nomination, NomineeKind, OrganisationUnit, PriorAward, Stage
from processes.organisation import OrgTree, unit_head_on

#: The cases a unit has proposed: under review above it (or back with it for completion), or awarded.
PROPOSED_STAGES = (Stage.SUMMARISE, Stage.RETURNED, Stage.REPLICATE, Stage.CLOSED)


@dataclass(frozen=True)
class NomineeLine:
    name: str
    birth_gender: str
    position: str
    unit: str
    achievements: str
    earlier_awards: str
    award_form: str


@dataclass(frozen=True)
class ProposalPaper:
    header: Header
    addressee: str
    subject: str
    grounds: tuple[str, ...]
    request: str
    closing: str
    lines: tuple[NomineeLine, ...]
    list_subject: str
    list_note: str
    signature: Signature
    recipients: tuple[str, ...]

    @property
    def kind(self) -> str:
        return pgettext("document", "Proposal")

    @property
    def list_kind(self) -> str:
        return pgettext("document", "Summary list of nominees")


def proposed_nominations(nominations: QuerySet[Nomination], *, unit, campaign) -> QuerySet[Nomination]:
    """Of ``nominations`` (those the reader may see), the ones ``unit`` proposed in ``campaign``."""
    return nominations.filter(unit=unit, campaign=campaign, stage__in=PROPOSED_STAGES)


def nominee_line(nomination: Nomination) -> NomineeLine:
    nominee = nomination.nominee
    if nominee.kind == NomineeKind.INDIVIDUAL:
        birth = str(nominee.birth_date.year) if nominee.birth_date else ""
        birth_gender = " / ".join(part for part in (birth, nominee.get_gender_display()) if part)
    else:
        birth_gender = ""
    earlier = "; ".join(f"{award.award_form.name} ({award.year})" for award in nominee.prior_awards.all())
    return NomineeLine(
        name=nominee.name,
        birth_gender=birth_gender,
        position=nominee.position,
        unit=nominee.unit.name,
        achievements=nomination.achievement_summary,
        earlier_awards=earlier,
        award_form=nomination.award_form.name,
    )


def proposal_paper(
    *, unit: OrganisationUnit, campaign: Campaign, nominations: QuerySet[Nomination], day: date
) -> ProposalPaper:
    """The proposal and its list, over ``nominations`` (already chosen): a fixed number of queries."""
    rows = list(
        nominations.select_related("nominee__unit", "award_form")
        .prefetch_related(Prefetch("nominee__prior_awards", queryset=PriorAward.objects.select_related("award_form")))
        .order_by("award_form__code", "nominee__name", "pk")
    )
    tree = OrgTree.on(day)
    head = unit_head_on(unit, day)
    with translation.override(document_language()):
        lines = tuple(nominee_line(nomination) for nomination in rows)
        forms = ", ".join(dict.fromkeys(line.award_form for line in lines))
        addressee = parent_name(unit.pk, tree) or pgettext("document", "the competent authority")
        head_title, deputy_title = head_titles(unit.kind)
        values = {
            "unit": unit.name,
            "addressee": addressee,
            "forms": forms,
            "count": len(lines),
            "campaign": campaign.name,
        }
        return ProposalPaper(
            header=Header(
                issuer=unit.name,
                parent=parent_name(unit.pk, tree),
                number=f"{' ' * 8}/{document_text('proposal_symbol')}",
                place=place_of(unit.pk, tree),
                day=day,
            ),
            addressee=pgettext("document", "To: %(addressee)s") % values,
            subject=pgettext("document", "Proposing to award %(forms)s") % values,
            grounds=tuple(document_text("proposal_grounds")),
            request=pgettext(
                "document",
                "%(unit)s respectfully asks %(addressee)s to consider awarding %(forms)s to the %(count)s "
                "collectives and individuals with outstanding achievements in %(campaign)s (the summary list "
                "is attached).",
            )
            % values,
            closing=pgettext("document", "Respectfully submitted to %(addressee)s for consideration and decision.")
            % values,
            lines=lines,
            list_subject=pgettext("document", "Collectives and individuals proposed for %(forms)s") % values,
            list_note=pgettext("document", "(Annexed to the proposal of %(unit)s; %(campaign)s)") % values,
            signature=Signature(
                head_title=head_title,
                deputy_title=deputy_title,
                name=(head.get_full_name() or head.get_username()) if head else "",
            ),
            recipients=tuple(document_text("proposal_recipients")),
        )


def proposal_docx(paper: ProposalPaper) -> bytes:
    with translation.override(document_language()):
        out = Paper()
        out.header(paper.header)
        out.title(paper.kind, paper.subject)
        out.centred(paper.addressee, after=12)
        for ground in paper.grounds:
            out.body(ground)
        out.body(paper.request)
        out.body(paper.closing)
        out.signature(paper.signature, paper.recipients)
        return out.to_bytes()


def summary_columns() -> list[Column]:
    return [
        Column(pgettext("document", "No."), 10),
        Column(pgettext("document", "Full name / name"), 38),
        Column(pgettext("document", "Year of birth / gender"), 22),
        Column(pgettext("document", "Position"), 30),
        Column(pgettext("document", "Unit"), 35),
        Column(pgettext("document", "Achievements"), 60),
        Column(pgettext("document", "Earlier awards"), 32),
        Column(pgettext("document", "Proposed award form"), 25),
    ]


def summary_rows(paper: ProposalPaper) -> list[list[str]]:
    return [
        [
            str(index),
            line.name,
            line.birth_gender,
            line.position,
            line.unit,
            line.achievements,
            line.earlier_awards,
            line.award_form,
        ]
        for index, line in enumerate(paper.lines, start=1)
    ]


def summary_list_docx(paper: ProposalPaper) -> bytes:
    """The summary list on landscape A4: its columns do not fit across a portrait page."""
    with translation.override(document_language()):
        out = Paper(landscape=True)
        out.header(Header(issuer=paper.header.issuer, parent=paper.header.parent))
        out.title(paper.list_kind, paper.list_subject)
        out.centred(paper.list_note, italic=True, after=12)
        out.table(summary_columns(), summary_rows(paper))
        return out.to_bytes()
