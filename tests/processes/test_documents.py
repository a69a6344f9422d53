"""The papers: the award decision and its certificates list, a unit's proposal and summary list, the
council's vote-count minutes; as .docx (opened again with python-docx) and as print views."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from io import BytesIO

import docx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from processes import documents, services
from processes.documents.layout import date_line
from processes.models import AwardDecision, Decision, Nomination, Role, Stage
from tests.factories import (
    CampaignFactory,
    NomineeFactory,
    UserFactory,
    approve_until,
    make_nomination,
    member,
    open_step,
    submitted,
)
from workflow.models import VoteSession

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("x")'
SIGNED_ON = date(2026, 12, 5)


# --- helpers -------------------------------------------------------------------------------------


def texts(data: bytes) -> list[str]:
    """Every paragraph's text of a .docx, in the body and in every table cell."""
    document = docx.Document(BytesIO(data))
    found = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                found += [paragraph.text for paragraph in cell.paragraphs]
    return found


def xml_of(data: bytes) -> str:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return archive.read("word/document.xml").decode()


def rows_of(data: bytes, table: int = -1) -> list[list[str]]:
    document = docx.Document(BytesIO(data))
    return [[cell.text for cell in row.cells] for row in document.tables[table].rows]


def _place_the_city(org):
    org.city.place_name = "Hải Phòng"
    org.city.decision_symbol = "QĐ-UBND"
    org.city.save()


def award_decision(org, nominations, *, signer, on_behalf, sequence=245) -> AwardDecision:
    """A signed decision over ``nominations`` (each with its Decision row): numbered as the signing
    service numbers them, the awards pointed at it."""
    document = AwardDecision.objects.create(
        issuer=org.city,
        year=SIGNED_ON.year,
        sequence=sequence,
        symbol="QĐ-UBND",
        signed_on=SIGNED_ON,
        signer=signer,
        on_behalf=on_behalf,
    )
    Decision.objects.filter(nomination__in=nominations).update(document=document, number=document.number)
    return document


@pytest.fixture
def awarded(org):
    return award_three(org)


def award_three(org) -> list[Nomination]:
    """Three nominations of the hospital driven through the chain and awarded, one named like markup
    and one like a formula."""
    _place_the_city(org)
    org.vice_chairman.first_name, org.vice_chairman.last_name = "Lê Văn", "Phó"
    org.vice_chairman.save()
    org.chairman.first_name, org.chairman.last_name = "Trần Văn", "Chủ"
    org.chairman.save()
    names = ["Nguyễn Thị Hoa", SCRIPT, FORMULA]
    nominations = []
    for name in names:
        nominee = NomineeFactory(unit=org.hospital, name=name, position="Điều dưỡng trưởng")
        nomination = approve_until(submitted(org, nominee=nominee))
        services.nomination_award(nomination=nomination, by=org.chairman, decision_number="245/QĐ-UBND")
        nominations.append(nomination)
    return nominations


# --- the decision --------------------------------------------------------------------------------


def test_the_decision_carries_number_date_every_awardee_and_the_chairmans_signature(org, awarded):
    document = award_decision(org, awarded, signer=org.chairman, on_behalf=False)
    data = documents.decision_docx(documents.decision_paper(document))
    lines = texts(data)

    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
    assert "UBND THÀNH PHỐ" in lines
    assert "Số: 245/QĐ-UBND" in lines
    assert "Hải Phòng, ngày 05 tháng 12 năm 2026" in lines
    assert "QUYẾT ĐỊNH" in lines
    assert "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;" in lines
    assert any(line.startswith("Điều 1. Tặng") for line in lines)
    assert any(line.startswith("Điều 3. ") for line in lines)
    for nomination in awarded:
        assert nomination.nominee.name in lines
    assert "CHỦ TỊCH" in lines
    assert "Trần Văn Chủ" in lines
    assert not [line for line in lines if line.startswith("KT.") or "PHÓ CHỦ TỊCH" in line]
    # The annex lists each awardee once, with the position and the unit.
    annex = rows_of(data)
    assert [row[1] for row in annex[1:]] == [n.nominee.name for n in awarded]
    assert annex[1][2] == "Điều dưỡng trưởng, Bệnh viện Việt Tiệp"


def test_a_decision_signed_on_the_chairmans_behalf_says_so(org, awarded):
    document = award_decision(org, awarded, signer=org.vice_chairman, on_behalf=True)
    lines = texts(documents.decision_docx(documents.decision_paper(document)))
    assert lines.index("KT. CHỦ TỊCH") + 1 == lines.index("PHÓ CHỦ TỊCH")
    assert "Lê Văn Phó" in lines


def test_the_decision_is_laid_out_on_a4_in_times_new_roman(org, awarded):
    document = award_decision(org, awarded, signer=org.chairman, on_behalf=False)
    opened = docx.Document(BytesIO(documents.decision_docx(documents.decision_paper(document))))
    section = opened.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.left_margin.mm), round(section.right_margin.mm)) == (30, 15)
    assert (round(section.top_margin.mm), round(section.bottom_margin.mm)) == (20, 20)
    assert opened.styles["Normal"].font.name == "Times New Roman"
    assert opened.styles["Normal"].font.size.pt in (13, 14)


def test_names_like_markup_or_formulas_stay_text_in_every_paper(org, awarded):
    document = award_decision(org, awarded, signer=org.chairman, on_behalf=False)
    paper = documents.decision_paper(document)
    for data in (documents.decision_docx(paper), documents.certificates_docx(paper)):
        assert SCRIPT in texts(data)
        assert FORMULA in texts(data)
        xml = xml_of(data)
        assert "<script" not in xml
        assert "&lt;script&gt;" in xml
        # No field (Word's formulas, hyperlinks): every name is a plain run.
        assert "fldSimple" not in xml
        assert "instrText" not in xml


def test_the_grounds_are_data_a_deployment_replaces(org, awarded, settings):
    settings.DOCUMENT_TEXT = {"decision_grounds": ["Căn cứ Quy chế thi đua của thành phố;"]}
    document = award_decision(org, awarded, signer=org.chairman, on_behalf=False)
    lines = texts(documents.decision_docx(documents.decision_paper(document)))
    assert "Căn cứ Quy chế thi đua của thành phố;" in lines
    assert "Căn cứ Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022;" not in lines


def test_the_certificates_list_has_one_row_per_awardee(org, awarded):
    document = award_decision(org, awarded, signer=org.chairman, on_behalf=False)
    data = documents.certificates_docx(documents.decision_paper(document))
    rows = rows_of(data)
    assert rows[0][:2] == ["STT", "Họ và tên / tên tập thể"]
    assert [row[1] for row in rows[1:]] == [n.nominee.name for n in awarded]
    assert "(Kèm theo Quyết định số 245/QĐ-UBND ngày 05/12/2026 của Chủ tịch UBND thành phố)" in texts(data)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 5), "Hải Phòng, ngày 05 tháng 12 năm 2026"),
        (date(2026, 2, 3), "Hải Phòng, ngày 03 tháng 02 năm 2026"),
        (date(2026, 3, 12), "Hải Phòng, ngày 12 tháng 3 năm 2026"),
    ],
)
def test_the_date_line_pads_days_below_ten_and_the_first_two_months(day, expected):
    from django.utils import translation

    with translation.override("vi"):
        assert date_line("Hải Phòng", day) == expected


def _bare_awards(org, count: int) -> list[Nomination]:
    """``count`` awards recorded straight in the database (the chain is not under test here)."""
    nominations = [make_nomination(org) for _ in range(count)]
    Decision.objects.bulk_create(
        Decision(nomination=n, number="x", signed_on=SIGNED_ON, signer=org.chairman) for n in nominations
    )
    return nominations


def _queries(callable_) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured)


def test_the_decisions_papers_cost_the_same_queries_for_10_and_200_awardees(org):
    _place_the_city(org)
    small = award_decision(org, _bare_awards(org, 10), signer=org.chairman, on_behalf=False, sequence=1)
    large = award_decision(org, _bare_awards(org, 200), signer=org.chairman, on_behalf=False, sequence=2)
    costs = [_queries(lambda d=d: documents.decision_docx(documents.decision_paper(d))) for d in (small, large)]
    assert costs[0] == costs[1]
    assert len(rows_of(documents.decision_docx(documents.decision_paper(large)))) == 201


# --- the minutes ---------------------------------------------------------------------------------


@pytest.fixture
def closed_session(org):
    return hold_closed_session(org)


def hold_closed_session(org) -> VoteSession:
    """Two cases before the council, two members voting (named, so the test can look for them)."""
    org.city_form.council_vote = True
    org.city_form.council_threshold_percent = 50
    org.city_form.save()
    org.council_member.first_name, org.council_member.last_name = "Đỗ Thị", "Bỏ Phiếu"
    org.council_member.save()
    second = UserFactory(username="council_two", first_name="Vũ Văn", last_name="Kiểm Phiếu")
    member(second, org.council, Role.MEMBER)
    first_case = approve_until(submitted(org, nominee=NomineeFactory(unit=org.hospital, name=SCRIPT)), "council_review")
    second_case = approve_until(submitted(org), "council_review")
    session = services.council_session_open(
        by=org.board_officer,
        title="Phiên họp tháng 12",
        tasks=[open_step(first_case), open_step(second_case)],
        closes_at=timezone.now() + timedelta(days=7),
    )
    first, second_item = session.items.order_by("pk")
    services.council_vote(session_id=session.pk, by=org.council_member, choices={first.pk: "yes", second_item.pk: "no"})
    services.council_vote(session_id=session.pk, by=second, choices={first.pk: "yes", second_item.pk: "abstain"})
    session = VoteSession.objects.get(pk=session.pk)
    assert session.is_closed
    return session


def test_the_minutes_count_each_case_and_name_no_voter(org, closed_session):
    data = documents.minutes_docx(documents.minutes_paper(closed_session))
    rows = rows_of(data, table=1)  # after the header's
    assert rows[0] == [
        "STT",
        "Trường hợp",
        "Số thành viên",
        "Số phiếu bầu",
        "Đồng ý",
        "Không đồng ý",
        "Không biểu quyết",
        "Kết quả",
    ]
    items = list(closed_session.items.order_by("pk"))
    assert rows[1] == ["1", items[0].subject_label, "2", "2", "2", "0", "0", "Đạt"]
    assert rows[2] == ["2", items[1].subject_label, "2", "2", "0", "1", "1", "Không đạt"]
    lines = texts(data)
    assert "BIÊN BẢN KIỂM PHIẾU" in lines
    whole = "\n".join(lines) + xml_of(data)
    voters = type(org.council_member).objects.filter(pk__in=closed_session.receipts.values("user"))
    assert {voter.username for voter in voters} == {"council_member", "council_two"}
    for voter in voters:
        for word in (voter.get_username(), voter.get_full_name(), voter.first_name, voter.last_name):
            assert word not in whole, word


# --- the proposal and the summary list -----------------------------------------------------------


def test_the_summary_list_has_every_proposed_case_of_the_unit_and_campaign_and_nothing_else(org):
    ours = [submitted(org, nominee=NomineeFactory(unit=org.hospital, name=name)) for name in ("Bà A", FORMULA)]
    not_yet = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Ông Chưa Trình"))
    elsewhere = make_nomination(org, unit=org.ward, nominee=NomineeFactory(unit=org.ward, name="Ông Phường"))
    other_campaign = make_nomination(org, nominee=NomineeFactory(unit=org.hospital, name="Bà Khác"))
    Nomination.objects.filter(pk=other_campaign.pk).update(campaign=CampaignFactory(launching_unit=org.city))
    Nomination.objects.filter(pk__in=[elsewhere.pk, other_campaign.pk]).update(stage=Stage.SUMMARISE)
    nominations = documents.proposed_nominations(Nomination.objects.all(), unit=org.hospital, campaign=org.campaign)
    paper = documents.proposal_paper(unit=org.hospital, campaign=org.campaign, nominations=nominations, day=SIGNED_ON)
    data = documents.summary_list_docx(paper)
    names = [row[1] for row in rows_of(data)[1:]]
    assert sorted(names) == sorted(n.nominee.name for n in ours)
    assert not {"Ông Chưa Trình", "Ông Phường", "Bà Khác"} & set("\n".join(texts(data)).split("\n"))
    assert "DANH SÁCH TRÍCH NGANG" in texts(data)
    first = rows_of(data)[1]
    assert first[2] == "1985 / Nam"
    assert not_yet.pk not in [n.pk for n in nominations]

    proposal = texts(documents.proposal_docx(paper))
    assert "TỜ TRÌNH" in proposal
    assert "Kính gửi: Sở Y tế" in proposal
    assert any("kính trình Sở Y tế xem xét" in line and " 2 tập thể, cá nhân" in line for line in proposal)


def test_the_summary_list_costs_the_same_queries_for_10_and_200_cases(org):
    small_unit, large_unit = org.hospital, org.ward
    for unit, count in ((small_unit, 10), (large_unit, 200)):
        nominations = [make_nomination(org, unit=unit, nominee=NomineeFactory(unit=unit)) for _ in range(count)]
        Nomination.objects.filter(pk__in=[n.pk for n in nominations]).update(stage=Stage.SUMMARISE)

    def write(unit):
        nominations = documents.proposed_nominations(Nomination.objects.all(), unit=unit, campaign=org.campaign)
        paper = documents.proposal_paper(unit=unit, campaign=org.campaign, nominations=nominations, day=SIGNED_ON)
        return documents.summary_list_docx(paper)

    assert _queries(lambda: write(small_unit)) == _queries(lambda: write(large_unit))
    assert len(rows_of(write(large_unit))) == 201


# --- the views -----------------------------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _assert_docx(response, filename):
    assert response.status_code == 200
    assert response["Content-Type"] == DOCX
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    docx.Document(BytesIO(response.content))


def test_a_decisions_papers_open_for_who_sees_an_awardee_and_for_nobody_else(client, org, awarded):
    document = award_decision(org, awarded, signer=org.vice_chairman, on_behalf=True)
    urls = [
        reverse(name, args=[document.pk])
        for name in ("processes:decision-print", "processes:decision-docx", "processes:decision-certificates")
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: to the log-in page
    client.force_login(org.ward_head)
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(org.hospital_head)
    page = client.get(urls[0])
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.text
    assert "245/QĐ-UBND" in html
    assert "KT. CHỦ TỊCH" in html
    assert "PHÓ CHỦ TỊCH" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT not in html
    assert "print.css" in html
    assert ' style="' not in html
    _assert_docx(client.get(urls[1]), f"decision-2026-{document.sequence}.docx")
    _assert_docx(client.get(urls[2]), f"certificates-2026-{document.sequence}.docx")
    assert client.get(reverse("processes:decision-print", args=[document.pk + 1000])).status_code == 404


def test_the_minutes_open_for_who_sees_the_session_once_it_is_closed(client, org, closed_session):
    print_url = reverse("processes:council-minutes", args=[closed_session.pk])
    docx_url = reverse("processes:council-minutes-docx", args=[closed_session.pk])
    assert client.get(print_url).status_code == 302
    client.force_login(org.hospital_head)
    assert client.get(print_url).status_code == 404
    assert client.get(docx_url).status_code == 404
    client.force_login(org.board_officer)
    page = client.get(print_url)
    assert page.status_code == 200
    assert "BIÊN BẢN KIỂM PHIẾU" in page.text
    assert "Bỏ Phiếu" not in page.text
    assert "council_two" not in page.text
    _assert_docx(client.get(docx_url), f"minutes-session-{closed_session.pk}.docx")
    assert print_url in client.get(reverse("processes:council-session", args=[closed_session.pk])).text


def test_an_open_sessions_minutes_do_not_exist_yet(client, org):
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = approve_until(submitted(org), "council_review")
    session = services.council_session_open(
        by=org.board_officer,
        title="Phiên họp",
        tasks=[open_step(nomination)],
        closes_at=timezone.now() + timedelta(days=7),
    )
    client.force_login(org.board_officer)
    assert client.get(reverse("processes:council-minutes", args=[session.pk])).status_code == 404


def test_a_units_papers_are_chosen_through_a_form_and_scoped(client, org):
    nomination = submitted(org)
    args = [org.hospital.pk, org.campaign.pk]
    names = ("processes:proposal-print", "processes:proposal-docx", "processes:summary-list-print")
    names += ("processes:summary-list-docx",)
    urls = [reverse(name, args=args) for name in names]
    assert client.get(urls[0]).status_code == 302

    client.force_login(org.hospital_secretary)
    choice = client.get(reverse("processes:unit-papers"), {"unit": org.hospital.pk, "campaign": org.campaign.pk})
    assert choice.status_code == 200
    for url in urls:
        assert url in choice.text
    page = client.get(urls[2])
    assert page.status_code == 200
    assert nomination.nominee.name in page.text
    assert "TỜ TRÌNH" in client.get(urls[0]).text
    _assert_docx(client.get(urls[1]), f"proposal-unit-{org.hospital.pk}-campaign-{org.campaign.pk}.docx")
    _assert_docx(client.get(urls[3]), f"summary-list-unit-{org.hospital.pk}-campaign-{org.campaign.pk}.docx")

    client.force_login(org.ward_head)
    for url in urls:
        assert client.get(url).status_code == 404
    refused = client.get(reverse("processes:unit-papers"), {"unit": org.hospital.pk, "campaign": org.campaign.pk})
    assert refused.status_code == 400
    assert client.get(reverse("processes:unit-papers"), {"unit": "²", "campaign": "x"}).status_code == 400
    forged = reverse("processes:proposal-print", args=[org.hospital.pk + 1000, org.campaign.pk])
    assert client.get(forged).status_code == 404
