"""Demo data for ``manage.py seed_demo``: on top of the reference data a real installation loads too
(``processes.reference_data``: award forms, document types, eligibility rules, the approval chains and
their assignments), the Hai Phong 2021 organisation, two campaigns, one demo user per role and a few
hundred nominations brought to every stage, and a piece of the 2025 structure (a ward reporting to the
city, whose chairman version 2 of ``city_regular`` asks to sign from the reform day).

Idempotent: every row is found by a natural key before it is made (unit and form codes, user names,
ID numbers, a collective's name within its unit), children are only added to a parent this run
created, and each nomination's story runs in one transaction, so a second run, or a run after an
interrupted one, adds nothing that is already there. Deterministic: the whole plan is drawn from one
seeded ``random.Random`` before the database is read, so every run plans the same rows.

Nominations move only through ``processes.services`` (and files through ``dossier_upload``), acted
by the user the permission rules expect at each step, so every stage has its audit trail. Nominees,
their earlier awards and cultivation milestones have no service and are written directly.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Task
from viewflow.workflow.timers import fire_due_timers

from processes import services
from processes.choices import ApproverRule
from processes.models import (
    AwardDecision,
    AwardForm,
    Campaign,
    CampaignKind,
    CollectiveType,
    CultivationMilestone,
    DecisionLevel,
    DocumentType,
    Gender,
    IndividualCategory,
    Membership,
    Nomination,
    Nominee,
    NomineeKind,
    OrganisationUnit,
    PriorAward,
    Procedure,
    Role,
    Stage,
    UnitKind,
    UnitLink,
)
from processes.organisation import organisation_unchanged
from processes.reference_data import REFORM_DAY, form_chains, load_reference_data
from processes.services.dossiers import dossier_upload
from workflow.approvals import current_process, next_position, open_tasks
from workflow.models import Ballot, StepAction, StepKind
from workflow.voting import ballot_holders

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20260101
DEMO_PASSWORD = "thidua-demo-2026"  # noqa: S105 - printed for the demo log-ins, not a secret
ORGANISATION_FROM = date(2021, 1, 1)
REGULAR_CAMPAIGN = "HP-2026"
THEMATIC_CAMPAIGN = "HP-2026-CDS"

# Smallest well-formed PDF; a comment line makes each file's content (and hash) its own.
# A well-formed PDF (uploads are inspected with pypdf); each file gets a comment after it, so no two are alike.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
    b"trailer<</Size 3/Root 1 0 R>>\nstartxref\n96\n%%EOF\n"
)

# --- files and campaigns ----------------------------------------------------------------------------

#: The file name each demo upload of a document type gets.
DOCUMENT_FILE_NAMES = {
    DocumentType.ACHIEVEMENT_REPORT: "bao-cao-thanh-tich.pdf",
    "submission_letter": "to-trinh.pdf",
    "council_minutes": "bien-ban-hop-hoi-dong.pdf",
    "initiative_certificate": "giay-chung-nhan-sang-kien.pdf",
    "agency_opinion": "van-ban-hiep-y.pdf",
}

CAMPAIGNS = [
    {
        "code": REGULAR_CAMPAIGN,
        "name": "Phong trào thi đua yêu nước thành phố Hải Phòng năm 2026",
        "launching_unit": "HP",
        "kind": CampaignKind.REGULAR,
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 12, 31),
        "submission_deadline": date(2026, 12, 15),
    },
    {
        "code": THEMATIC_CAMPAIGN,
        "name": "Phong trào thi đua “Hải Phòng chuyển đổi số” năm 2026",
        "launching_unit": "HP.STTTT",
        "kind": CampaignKind.THEMATIC,
        "period_start": date(2026, 3, 1),
        "period_end": date(2026, 12, 31),
        "submission_deadline": date(2026, 12, 10),
    },
]

# --- names --------------------------------------------------------------------------------------

FAMILY_NAMES = (
    ["Nguyễn"] * 12
    + ["Trần"] * 5
    + ["Lê"] * 4
    + ["Phạm"] * 3
    + ["Hoàng", "Vũ", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Phan", "Đinh", "Mạc", "Đoàn", "Tô", "Lương", "Hà"]
)
MIDDLE_NAMES = {
    Gender.MALE: ["Văn", "Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Xuân", "Công", "Tiến", "Mạnh", "Trọng"],
    Gender.FEMALE: ["Thị", "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Phương", "Hồng", "Thúy", "Kim", "Bích", "Hải"],
}
GIVEN_NAMES = {
    Gender.MALE: [
        "Hùng", "Dũng", "Tuấn", "Hải", "Nam", "Long", "Cường", "Thắng", "Quân", "Khánh", "Sơn", "Trung",
        "Hiếu", "Phong", "Đạt", "Huy", "Thành", "Bình", "Toàn", "Vinh", "Lâm", "Kiên", "Tâm", "Hưng",
    ],
    Gender.FEMALE: [
        "Lan", "Hương", "Hoa", "Mai", "Linh", "Trang", "Hạnh", "Thảo", "Nga", "Yến", "Huyền", "Ngân",
        "Oanh", "Phượng", "Vân", "Dung", "Hằng", "Loan", "Nhung", "Thủy", "Quỳnh", "Giang", "Ly", "Tuyết",
    ],
}  # fmt: skip
ETHNICITIES = ["Kinh"] * 30 + ["Hoa", "Tày", "Mường", "Nùng"]


def person_name(rng: random.Random, gender: str) -> str:
    return f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES[gender])} {rng.choice(GIVEN_NAMES[gender])}"


# --- what each kind of base unit does ----------------------------------------------------------

C = IndividualCategory
T = CollectiveType


@dataclass(frozen=True)
class Sector:
    positions: list[tuple[str, str]]
    collectives: list[tuple[str, str]]
    achievements: list[str]
    households: bool = False


SECTORS = {
    "health": Sector(
        positions=[
            ("Bác sĩ", C.OTHER),
            ("Bác sĩ", C.OTHER),
            ("Điều dưỡng", C.OTHER),
            ("Trưởng khoa", C.MANAGER),
            ("Kỹ thuật viên xét nghiệm", C.OTHER),
            ("Dược sĩ", C.OTHER),
            ("Phó Giám đốc bệnh viện", C.LEADER),
            ("Hộ lý", C.WORKER),
        ],
        collectives=[
            ("Khoa Hồi sức tích cực", T.STATE_BODY),
            ("Khoa Cấp cứu", T.STATE_BODY),
            ("Khoa Ngoại tổng hợp", T.STATE_BODY),
            ("Khoa Nội tim mạch", T.STATE_BODY),
            ("Khoa Xét nghiệm", T.STATE_BODY),
            ("Phòng Điều dưỡng", T.STATE_BODY),
        ],
        achievements=[
            "Chủ trì sáng kiến “Đặt lịch khám trực tuyến”, giảm 40% thời gian chờ khám của người bệnh.",
            "Tham gia cấp cứu thành công nhiều ca bệnh nặng; hoàn thành xuất sắc nhiệm vụ năm 2026.",
            "Triển khai kỹ thuật lọc máu liên tục cho người bệnh sốc nhiễm khuẩn, được Hội đồng khoa học công nhận.",
            "Không để xảy ra sai sót chuyên môn; được người bệnh và gia đình nhiều lần gửi thư cảm ơn.",
        ],
    ),
    "education": Sector(
        positions=[
            ("Giáo viên", C.OTHER),
            ("Giáo viên", C.OTHER),
            ("Tổ trưởng chuyên môn", C.MANAGER),
            ("Phó Hiệu trưởng", C.LEADER),
            ("Nhân viên thiết bị thí nghiệm", C.WORKER),
        ],
        collectives=[
            ("Tổ Toán - Tin", T.STATE_BODY),
            ("Tổ Ngữ văn", T.STATE_BODY),
            ("Tổ Ngoại ngữ", T.STATE_BODY),
            ("Tổ Vật lý - Công nghệ", T.STATE_BODY),
        ],
        achievements=[
            "Bồi dưỡng đội tuyển học sinh giỏi đạt 2 giải Nhất cấp thành phố năm học 2025-2026.",
            "Xây dựng kho học liệu số dùng chung cho toàn trường, được Sở Giáo dục và Đào tạo giới thiệu nhân rộng.",
            "Có sáng kiến đổi mới phương pháp dạy học theo dự án, được công nhận cấp thành phố.",
        ],
    ),
    "irrigation": Sector(
        positions=[
            ("Kỹ sư thủy lợi", C.OTHER),
            ("Công nhân vận hành trạm bơm", C.WORKER),
            ("Công nhân vận hành trạm bơm", C.WORKER),
            ("Trưởng trạm", C.MANAGER),
        ],
        collectives=[
            ("Trạm quản lý thủy nông số 2", T.STATE_BODY),
            ("Đội kỹ thuật công trình", T.STATE_BODY),
        ],
        achievements=[
            "Vận hành an toàn hệ thống trạm bơm trong mùa mưa bão, không để xảy ra ngập úng diện rộng.",
            "Cải tiến quy trình bảo dưỡng cống, tiết kiệm 15% chi phí sửa chữa.",
        ],
    ),
    "ward": Sector(
        positions=[
            ("Tổ trưởng tổ dân phố", C.OTHER),
            ("Công chức địa chính - xây dựng", C.OTHER),
            ("Chủ cơ sở kinh doanh", C.ENTREPRENEUR),
            ("Công nhân", C.WORKER),
            ("Công nhân", C.WORKER),
            ("Chủ tịch Hội Phụ nữ phường", C.MANAGER),
        ],
        collectives=[
            ("Tổ dân phố số 5", T.STATE_BODY),
            ("Chi hội Cựu chiến binh khu dân cư số 2", T.STATE_BODY),
            ("Công ty TNHH Cơ khí chính xác Hải Long", T.ENTERPRISE),
            ("Tổ sản xuất số 3", T.ENTERPRISE),
        ],
        achievements=[
            "Vận động nhân dân hiến đất mở rộng ngõ, xây dựng tuyến phố văn minh đô thị.",
            "Tích cực tham gia phòng chống tội phạm, giữ gìn an ninh trật tự trên địa bàn.",
            "Tạo việc làm ổn định cho 120 lao động địa phương, thực hiện đầy đủ nghĩa vụ với Nhà nước.",
        ],
        households=True,
    ),
    "commune": Sector(
        positions=[
            ("Nông dân", C.FARMER),
            ("Nông dân", C.FARMER),
            ("Nông dân", C.FARMER),
            ("Chủ nhiệm hợp tác xã", C.MANAGER),
            ("Chủ trang trại", C.ENTREPRENEUR),
            ("Công chức văn hóa - xã hội", C.OTHER),
        ],
        collectives=[
            ("Hợp tác xã dịch vụ nông nghiệp", T.ENTERPRISE),
            ("Tổ sản xuất số 3", T.ENTERPRISE),
            ("Chi hội Nông dân thôn 2", T.STATE_BODY),
            ("Trạm Y tế xã", T.STATE_BODY),
        ],
        achievements=[
            "Áp dụng quy trình sản xuất lúa hữu cơ, nâng thu nhập của xã viên thêm 25%.",
            "Đi đầu phong trào xây dựng nông thôn mới kiểu mẫu; hiến 300 m² đất làm đường liên thôn.",
            "Phát triển mô hình nuôi trồng thủy sản tuần hoàn, tạo việc làm cho 30 lao động.",
        ],
        households=True,
    ),
    "island": Sector(
        positions=[
            ("Ngư dân", C.FARMER),
            ("Ngư dân", C.FARMER),
            ("Thuyền trưởng tàu cá", C.WORKER),
            ("Hướng dẫn viên du lịch cộng đồng", C.OTHER),
            ("Chủ cơ sở lưu trú", C.ENTREPRENEUR),
        ],
        collectives=[
            ("Tổ đoàn kết khai thác hải sản số 1", T.ENTERPRISE),
            ("Trạm Y tế", T.STATE_BODY),
            ("Hợp tác xã nuôi trồng thủy sản", T.ENTERPRISE),
        ],
        achievements=[
            "Bám biển dài ngày, tham gia cứu hộ thành công tàu cá gặp nạn; góp phần bảo vệ chủ quyền biển đảo.",
            "Phát triển du lịch cộng đồng gắn với bảo tồn thiên nhiên quần đảo Cát Bà.",
        ],
        households=True,
    ),
    "volunteer": Sector(
        positions=[("Đội viên", C.WORKER), ("Đội viên", C.WORKER), ("Tiểu đội trưởng", C.MANAGER)],
        collectives=[("Tiểu đội 1", T.STATE_BODY), ("Tiểu đội 2", T.STATE_BODY)],
        achievements=[
            "Hoàn thành xuất sắc nhiệm vụ xây dựng, bảo vệ và phát triển kinh tế đảo Bạch Long Vĩ.",
            "Trồng và chăm sóc 2.000 cây phi lao chắn gió, cát trên đảo.",
        ],
    ),
}

AD_HOC_ACHIEVEMENTS = [
    "Dũng cảm lao xuống biển cứu 2 học sinh bị đuối nước tại bãi tắm Đồ Sơn.",
    "Kịp thời dập tắt đám cháy tại khu dân cư, bảo vệ tính mạng và tài sản của nhân dân.",
    "Cứu sống 4 ngư dân gặp nạn trên biển trong cơn bão số 3.",
    "Phát hiện và giúp cơ quan công an bắt giữ đối tượng cướp giật tài sản.",
    "Trả lại cho người đánh rơi số tài sản trị giá hơn 500 triệu đồng.",
]
CULTIVATION_GOALS = [
    "Hoàn thiện sáng kiến và đăng ký với Hội đồng sáng kiến cơ sở; báo cáo kết quả áp dụng trước ngày 30/9/2026.",
    "Nhân rộng mô hình ra các đơn vị trong ngành; tổ chức một buổi chia sẻ kinh nghiệm.",
    "Tổng kết số liệu minh chứng hiệu quả; phối hợp với công đoàn giới thiệu điển hình trên báo Hải Phòng.",
]
MILESTONES = [
    ("Đăng ký sáng kiến với Hội đồng sáng kiến cơ sở", date(2026, 4, 30), date(2026, 4, 22)),
    ("Báo cáo kết quả áp dụng sáng kiến", date(2026, 9, 30), None),
]
RETURN_REASONS = [
    "Biên bản họp Hội đồng chưa ghi rõ kết quả bỏ phiếu, đề nghị bổ sung.",
    "Báo cáo thành tích chưa có xác nhận của thủ trưởng đơn vị.",
    "Thiếu số liệu minh chứng hiệu quả của sáng kiến.",
]
REJECT_REASONS = [
    "Thành tích chưa đạt tiêu chuẩn theo quy định.",
    "Hội đồng Thi đua - Khen thưởng không thống nhất đề nghị khen thưởng.",
    "Thành tích đã được khen thưởng ở hình thức khác trong năm.",
]
CLOSE_REASON = "Điển hình đã được tuyên truyền, nhân rộng tại đơn vị; kết thúc theo dõi."
WITHDRAW_REASONS = [
    "Đơn vị rút hồ sơ để hoàn thiện, đề nghị vào đợt sau.",
    "Cá nhân chuyển công tác sang đơn vị khác.",
    "Đơn vị điều chỉnh danh sách đề nghị theo hướng dẫn của Ban Thi đua - Khen thưởng.",
]

# --- the plan ----------------------------------------------------------------------------------

#: Regular (and thematic) nominations per target stage; ad-hoc ones come on top.
STAGE_COUNTS = {
    Stage.DISCOVER: 32,
    Stage.CULTIVATE: 34,
    Stage.SUMMARISE: 32,
    Stage.RETURNED: 18,
    Stage.REPLICATE: 36,
    Stage.CLOSED: 30,
    Stage.REJECTED: 14,
    Stage.WITHDRAWN: 22,
}
AD_HOC_STAGES = [Stage.DISCOVER] * 2 + [Stage.SUMMARISE] * 4 + [Stage.RETURNED] + [Stage.REPLICATE] * 4
AD_HOC_STAGES += [Stage.CLOSED] * 4 + [Stage.REJECTED]

INDIVIDUAL_FORMS = ["BK_CT_UBND_TP"] * 3 + ["CSTD_CS"] * 3 + ["LDTT"] * 3 + ["GK"] * 3
COLLECTIVE_FORMS = ["BK_CT_UBND_TP"] * 3 + ["TTLDXS"] * 2 + ["CO_THI_DUA_TP"] + ["TTLDTT"] * 3 + ["GK"] * 2
HOUSEHOLD_FORMS = ["BK_CT_UBND_TP", "GK", "GK"]
THEMATIC_FORMS = ["BK_CT_UBND_TP", "GK"]


@dataclass
class PlannedNominee:
    kind: str
    name: str
    unit_code: str
    gender: str = ""
    birth_date: date | None = None
    ethnicity: str = ""
    position: str = ""
    id_number: str = ""
    category: str = ""
    collective_type: str = ""
    pending_discipline: bool = False
    under_investigation: bool = False
    pending_complaint: bool = False
    prior_awards: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class PlannedNomination:
    nominee: PlannedNominee
    campaign_code: str
    form_code: str
    procedure: str
    target: str
    steps: list[tuple[str, str]]  # (step, comment or decision number)
    achievement_summary: str
    cultivation_goals: str = ""
    vice_chairman_signs: bool = False
    signed_on: date | None = None


def _sector_of(unit_name: str, remote: bool) -> str:
    if unit_name.startswith("Bệnh viện"):
        return "health"
    if unit_name.startswith("Trường"):
        return "education"
    if unit_name.startswith("Chi cục"):
        return "irrigation"
    if unit_name.startswith("Đội"):
        return "volunteer"
    if remote:
        return "island"
    if unit_name.startswith("Xã"):
        return "commune"
    return "ward"


def _id_number(gender: str, birth: date, serial: int) -> str:
    """A citizen ID shaped like the real ones: province 031 (Hai Phong), gender-and-century digit,
    year of birth, then a serial."""
    century_digit = (0 if birth.year < 2000 else 2) + (1 if gender == Gender.FEMALE else 0)
    return f"031{century_digit}{birth.year % 100:02d}{serial:06d}"


def _steps(rng: random.Random, target: str, *, ad_hoc: bool) -> list[tuple[str, str]]:
    """The services that bring a new nomination to ``target``, in order."""
    to_summarise = [("upload", ""), ("submit", "")] if ad_hoc else [("start", ""), ("upload", ""), ("submit", "")]
    ret = ("return", rng.choice(RETURN_REASONS))
    again = [ret, ("upload_revision", ""), ("resubmit", "")]
    cycle = again if rng.random() < 0.25 else []
    if target == Stage.DISCOVER:
        return []
    if target == Stage.CULTIVATE:
        return [("start", "")]
    if target == Stage.SUMMARISE:
        return to_summarise + cycle + [("consult", "")]
    if target == Stage.RETURNED:
        return [*to_summarise, ret]
    if target == Stage.REPLICATE:
        return [*to_summarise, *cycle, ("consult", ""), ("award", "")]
    if target == Stage.CLOSED:
        return [*to_summarise, *cycle, ("consult", ""), ("award", ""), ("close", CLOSE_REASON)]
    if target == Stage.REJECTED:
        return [*to_summarise, ("reject", rng.choice(REJECT_REASONS))]
    # Withdrawn: from any stage a unit head may still pull a case back from.
    withdraw = ("withdraw", rng.choice(WITHDRAW_REASONS))
    start = [] if ad_hoc else [("start", "")]
    return rng.choice([[withdraw], [*start, withdraw], [*to_summarise, withdraw], [*to_summarise, ret, withdraw]])


class Planner:
    def __init__(self, unit_rows: list[dict]):
        self.rng = random.Random(SEED)
        self.rows = {row["code"]: row for row in unit_rows}
        self.base_units = [row for row in unit_rows if row["kind"] == UnitKind.UNIT]
        self.serial = 0
        self.used_collectives: set[tuple[str, str]] = set()
        self.decision_serial = 1200

    def _decision_number(self, form_code: str, unit_code: str) -> str:
        """Numbered as the signing body numbers them: the city or district People's Committee
        (QĐ-UBND), or a department (QĐ-SYT for the Department of Health)."""
        self.decision_serial += self.rng.randint(1, 9)
        parent = self.rows[self.rows[unit_code]["parent"]]
        if form_code in CITY_FORMS or parent["kind"] != UnitKind.DEPARTMENT:
            return f"{self.decision_serial}/QĐ-UBND"
        return f"{self.decision_serial}/QĐ-{parent['code'].split('.')[-1]}"

    def _individual(self, unit: dict, sector: Sector) -> PlannedNominee:
        rng = self.rng
        gender = rng.choice([Gender.FEMALE, Gender.MALE])
        birth = date(rng.randint(1966, 2001), rng.randint(1, 12), rng.randint(1, 28))
        position, category = rng.choice(sector.positions)
        self.serial += 1
        return PlannedNominee(
            kind=NomineeKind.INDIVIDUAL,
            name=person_name(rng, gender),
            unit_code=unit["code"],
            gender=gender,
            birth_date=birth,
            ethnicity=rng.choice(ETHNICITIES),
            position=position,
            id_number=_id_number(gender, birth, 104000 + self.serial * 7),
            category=category,
        )

    def _collective(self, unit: dict, sector: Sector) -> PlannedNominee | None:
        free = [item for item in sector.collectives if (unit["code"], item[0]) not in self.used_collectives]
        if not free:
            return None
        name, collective_type = self.rng.choice(free)
        self.used_collectives.add((unit["code"], name))
        return PlannedNominee(
            kind=NomineeKind.COLLECTIVE, name=name, unit_code=unit["code"], collective_type=collective_type
        )

    def _household(self, unit: dict) -> PlannedNominee:
        name = None
        while name is None or (unit["code"], name) in self.used_collectives:
            gender = self.rng.choice([Gender.MALE, Gender.FEMALE])
            title = "ông" if gender == Gender.MALE else "bà"
            name = f"Hộ gia đình {title} {person_name(self.rng, gender)}"
        self.used_collectives.add((unit["code"], name))
        return PlannedNominee(
            kind=NomineeKind.COLLECTIVE, name=name, unit_code=unit["code"], collective_type=T.HOUSEHOLD
        )

    def _nominee(self, unit: dict, *, allow_household=True) -> PlannedNominee:
        sector = SECTORS[_sector_of(unit["name_vi"], unit["remote_or_island"] == "yes")]
        roll = self.rng.random()
        if roll < 0.08 and sector.households and allow_household:
            return self._household(unit)
        if roll < 0.30:
            collective = self._collective(unit, sector)
            if collective:
                return collective
        return self._individual(unit, sector)

    def plan(self) -> list[PlannedNomination]:
        rng = self.rng
        targets = [stage for stage, count in STAGE_COUNTS.items() for _ in range(count)]
        rng.shuffle(targets)
        plans = []
        for index, target in enumerate(targets):
            unit = self.base_units[index % len(self.base_units)]
            nominee = self._nominee(unit)
            thematic = rng.random() < 0.15
            if thematic:
                form_code = rng.choice(THEMATIC_FORMS)
            elif nominee.collective_type == T.HOUSEHOLD:
                form_code = rng.choice(HOUSEHOLD_FORMS)
            elif nominee.kind == NomineeKind.COLLECTIVE:
                form_code = rng.choice(COLLECTIVE_FORMS)
            else:
                form_code = rng.choice(INDIVIDUAL_FORMS)
            plans.append(self._nomination(nominee, unit, form_code, target, thematic=thematic))
        plans += self._city_fighters()
        plans += self._ad_hoc()
        plans += self._pending_proceedings()
        self._earlier_awards(plans)
        return plans

    def _nomination(self, nominee, unit, form_code, target, *, thematic=False, ad_hoc=False):
        rng = self.rng
        sector = SECTORS[_sector_of(unit["name_vi"], unit["remote_or_island"] == "yes")]
        steps = _steps(rng, target, ad_hoc=ad_hoc)
        decision_number = self._decision_number(form_code, unit["code"])
        signed_on = date(2026, rng.randint(5, 10), rng.randint(1, 28))
        steps = [(step, decision_number if step == "award" else note) for step, note in steps]
        return PlannedNomination(
            nominee=nominee,
            campaign_code=THEMATIC_CAMPAIGN if thematic else REGULAR_CAMPAIGN,
            form_code=form_code,
            procedure=Procedure.AD_HOC if ad_hoc else (Procedure.THEMATIC if thematic else Procedure.REGULAR),
            target=target,
            steps=steps,
            achievement_summary=rng.choice(AD_HOC_ACHIEVEMENTS if ad_hoc else sector.achievements),
            cultivation_goals="" if ad_hoc else rng.choice(CULTIVATION_GOALS),
            vice_chairman_signs=rng.random() < 0.3,
            signed_on=signed_on,
        )

    def _city_fighters(self) -> list[PlannedNomination]:
        """City Emulation Fighter candidates: most with three consecutive grassroots titles, two
        with only two (the uncertain streak rule only warns)."""
        plans = []
        for index, target in enumerate([Stage.CULTIVATE, Stage.SUMMARISE, Stage.SUMMARISE, Stage.REPLICATE,
                                        Stage.CLOSED, Stage.RETURNED, Stage.DISCOVER, Stage.REJECTED]):  # fmt: skip
            unit = self.base_units[(index * 4) % len(self.base_units)]
            sector = SECTORS[_sector_of(unit["name_vi"], unit["remote_or_island"] == "yes")]
            nominee = self._individual(unit, sector)
            years = (2024, 2025) if index in (2, 6) else (2023, 2024, 2025)
            nominee.prior_awards = [("CSTD_CS", year, "") for year in years]
            plans.append(self._nomination(nominee, unit, "CSTD_TP", target))
        return plans

    def _ad_hoc(self) -> list[PlannedNomination]:
        plans = []
        for index, target in enumerate(AD_HOC_STAGES):
            unit = self.base_units[(index * 3 + 1) % len(self.base_units)]
            nominee = self._nominee(unit, allow_household=False)
            plans.append(self._nomination(nominee, unit, "BK_DOT_XUAT", target, ad_hoc=True))
        return plans

    def _pending_proceedings(self) -> list[PlannedNomination]:
        """Nominees the Decree 152/2025 block holds back: they stay where the guard stops them."""
        plans = []
        for index, (flag, target) in enumerate(
            [("pending_discipline", Stage.CULTIVATE), ("under_investigation", Stage.CULTIVATE),
             ("pending_complaint", Stage.DISCOVER)]
        ):  # fmt: skip
            unit = self.base_units[(index * 5 + 2) % len(self.base_units)]
            sector = SECTORS[_sector_of(unit["name_vi"], unit["remote_or_island"] == "yes")]
            nominee = self._individual(unit, sector)
            setattr(nominee, flag, True)
            plans.append(self._nomination(nominee, unit, "BK_CT_UBND_TP", target))
        return plans

    def _earlier_awards(self, plans: list[PlannedNomination]) -> None:
        for plan in plans:
            nominee = plan.nominee
            if nominee.prior_awards or nominee.collective_type == T.HOUSEHOLD or self.rng.random() > 0.12:
                continue
            if nominee.kind == NomineeKind.INDIVIDUAL:
                nominee.prior_awards = [("LDTT", 2024, ""), ("LDTT", 2025, "")]
                if self.rng.random() < 0.4:
                    nominee.prior_awards.append(("CSTD_CS", 2025, ""))
            else:
                nominee.prior_awards = [("TTLDTT", 2025, "")]
        for plan in plans:
            awards = plan.nominee.prior_awards
            for index, (form_code, year, _number) in enumerate(awards):
                awards[index] = (form_code, year, self._decision_number(form_code, plan.nominee.unit_code))


CITY_FORMS = {"BK_CT_UBND_TP", "CSTD_TP", "CO_THI_DUA_TP", "TTLDXS", "BK_DOT_XUAT"}


# --- loading -----------------------------------------------------------------------------------


def _rows(name: str) -> list[dict]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass
class DemoUser:
    username: str
    unit_code: str | None
    role: str | None
    label: object  # a lazy translation
    printed: bool = True


@dataclass
class SeedResult:
    created_nominations: int = 0
    logins: list[DemoUser] = field(default_factory=list)
    stages: Counter = field(default_factory=Counter)
    password: str = DEMO_PASSWORD


def _decision_heading(row: dict) -> tuple[str, str]:
    """The symbol and place a unit's decisions carry (Decree 30/2020): a People's Committee numbers
    its decisions QĐ-UBND, a department QĐ-<its abbreviation> (QĐ-SYT); the place is the city, or
    the district's own name."""
    if row["kind"] == UnitKind.CITY:
        return "QĐ-UBND", CITY_PLACE
    if row["kind"] == UnitKind.DISTRICT:
        return "QĐ-UBND", row["name_vi"].removeprefix("Quận ").removeprefix("Huyện ")
    if row["kind"] == UnitKind.DEPARTMENT:
        return f"QĐ-{row['code'].split('.')[-1]}", CITY_PLACE
    return "", ""


def _load_units(rows) -> dict[str, OrganisationUnit]:
    units = {unit.code: unit for unit in OrganisationUnit.objects.filter(code__in=[row["code"] for row in rows])}
    created = []
    for row in rows:
        symbol, place = _decision_heading(row)
        if row["code"] not in units:
            unit = OrganisationUnit.objects.create(
                code=row["code"],
                name=row["name_vi"],
                kind=row["kind"],
                remote_or_island=row["remote_or_island"] == "yes",
                decision_symbol=symbol,
                place_name=place,
            )
            units[unit.code] = unit
            created.append(row)
        elif symbol and not units[row["code"]].decision_symbol:
            # Units seeded before decisions carried a symbol get one; one an administrator set stays.
            OrganisationUnit.objects.filter(pk=units[row["code"]].pk).update(decision_symbol=symbol, place_name=place)
    UnitLink.objects.bulk_create(
        UnitLink(unit=units[row["code"]], parent=units[row["parent"]], valid_from=ORGANISATION_FROM)
        for row in created
        if row["parent"]
    )
    return units


def _load_campaigns(units) -> dict[str, Campaign]:
    campaigns = {}
    for spec in CAMPAIGNS:
        values = {**spec, "launching_unit": units[spec["launching_unit"]]}
        campaigns[spec["code"]], _created = Campaign.objects.get_or_create(code=values.pop("code"), defaults=values)
    return campaigns


def _demo_users(unit_rows) -> list[DemoUser]:
    """One printed log-in per role, then heads and secretaries of every unit holding nominations."""
    users = [
        DemoUser("admin", None, None, _("administrator (superuser, Django admin)")),
        DemoUser("chairman", "HP", Role.HEAD, _("City People's Committee chairman")),
        DemoUser("vicechairman", "HP", Role.DEPUTY, _("vice-chairman, signs on the chairman's behalf")),
        DemoUser("board.officer", "HP.SNV.BTDKT", Role.MEMBER, _("officer of the Emulation and Commendation Board")),
        DemoUser("council.member", "HP.HDTDKT", Role.MEMBER, _("member of the Emulation and Commendation Council")),
        DemoUser("head.syt", "HP.SYT", Role.HEAD, _("director of the Department of Health")),
        DemoUser("head.bvvd", "HP.SYT.BVVD", Role.HEAD, _("head of Viet Tiep Friendship Hospital")),
        DemoUser("secretary.bvvd", "HP.SYT.BVVD", Role.SECRETARY, _("secretary of Viet Tiep Friendship Hospital")),
    ]
    users += [
        DemoUser(
            f"council.member{n}", "HP.HDTDKT", Role.MEMBER, _("member of the Emulation and Commendation Council"), False
        )
        for n in range(2, COUNCIL_SIZE + 1)
    ]
    taken = {user.username for user in users}
    by_code = {row["code"]: row for row in unit_rows}
    deciders = {row["parent"] for row in unit_rows if row["kind"] == UnitKind.UNIT}
    for code in sorted(deciders):
        username = f"head.{code.split('.')[-1].lower()}"
        if username not in taken:
            users.append(DemoUser(username, code, Role.HEAD, _("department director / district chairman"), False))
    for row in unit_rows:
        if row["kind"] != UnitKind.UNIT:
            continue
        short = row["code"].split(".")[-1].lower()
        for role, prefix in ((Role.HEAD, "head"), (Role.SECRETARY, "secretary")):
            username = f"{prefix}.{short}"
            if username not in taken:
                users.append(DemoUser(username, row["code"], role, by_code[row["code"]]["name_vi"], False))
    return users


def _load_users(demo_users, units, password_hash: Callable[[], str]) -> dict[tuple[str, str], object]:
    """Create missing demo users and their memberships; return them by (unit code, role)."""
    User = get_user_model()
    existing = {user.username: user for user in User.objects.filter(username__in=[u.username for u in demo_users])}
    missing = [spec for spec in demo_users if spec.username not in existing]
    if missing:
        # One hash for every new account: they share the printed password anyway, and hashing
        # each one with the default hasher would cost seconds for nothing.
        hashed = password_hash()
        rng = random.Random(SEED + 1)
        new_users = []
        for spec in missing:
            gender = rng.choice([Gender.FEMALE, Gender.MALE])
            admin = spec.username == "admin"
            new_users.append(
                User(
                    username=spec.username,
                    first_name="" if admin else person_name(rng, gender),
                    email=f"{spec.username}@thidua.example",
                    password=hashed,
                    is_staff=admin,
                    is_superuser=admin,
                )
            )
        User.objects.bulk_create(new_users)
        existing = {user.username: user for user in User.objects.filter(username__in=[u.username for u in demo_users])}
        for spec in missing:
            if spec.unit_code:
                services.membership_create(
                    user=existing[spec.username],
                    unit=units[spec.unit_code],
                    role=spec.role,
                    valid_from=ORGANISATION_FROM,
                )
    held = Membership.objects.filter(user__in=existing.values()).select_related("user", "unit")
    return {(membership.unit.code, membership.role): membership.user for membership in held}


class Story:
    """Drives one planned nomination through the services, each step by the user allowed to take it."""

    def __init__(self, plan: PlannedNomination, *, people, units, parents, forms, campaigns, document_types):
        self.plan = plan
        self.unit = units[plan.nominee.unit_code]
        self.parent_code = parents[self.unit.code]
        self.form = forms[plan.form_code]
        self.campaign = campaigns[plan.campaign_code]
        self.people = people
        self.document_types = document_types
        self.city_form = self.form.decision_level == DecisionLevel.CITY_CHAIRMAN
        self.files = 0

    def person(self, unit_code, role):
        return self.people[(unit_code, role)]

    @property
    def head(self):
        return self.person(self.unit.code, Role.HEAD)

    @property
    def secretary(self):
        return self.person(self.unit.code, Role.SECRETARY)

    @property
    def chain(self) -> str:
        return "city_simplified" if self.plan.procedure == Procedure.AD_HOC else form_chains()[self.form.code]

    def holder(self, task):
        """Who takes the step: its holder; the vice-chairman where the plan has him sign."""
        users = [candidate.user for candidate in task.candidates.all()]
        if self.plan.vice_chairman_signs and task.step.approver_rule == ApproverRule.CITY_CHAIRMAN:
            return self.person("HP", Role.DEPUTY)
        return users[0]

    def advance(self, nomination, code: str | None):
        """Approve open steps, each by its holder, until the open step is ``code`` (None: the last).
        A posting window is let run out (the demo's one shortcut: its timer is fired now), a vote
        step goes to a council session in which every member votes for."""
        process = current_process(nomination)  # one run throughout: its steps open one after another
        while True:
            task = open_tasks(process=process).first()
            if task.step.code == code or (code is None and next_position(process, task.step.position) is None):
                return nomination, task
            if task.step.kind == StepKind.POSTING and not task.candidates.exists():
                Task.objects.filter(pk=task.pk).update(scheduled=timezone.now())
                fire_due_timers()
                nomination = Nomination.objects.get(pk=nomination.pk)
            elif task.step.kind == StepKind.VOTE:
                self.council_session(task)
                nomination = Nomination.objects.get(pk=nomination.pk)
            else:
                nomination = services.nomination_decide(
                    task_id=task.pk, by=self.holder(task), action=StepAction.APPROVE
                )

    def council_session(self, task):
        """A session for this one case; every member holding a ballot votes for it."""
        city_council = task.step.approver_rule == ApproverRule.COUNCIL
        session = services.council_session_open(
            by=self.person("HP.SNV.BTDKT", Role.MEMBER) if city_council else task.candidates.first().user,
            title=f"Phiên họp xét {task.step.name.lower()}",
            tasks=[task],
            closes_at=timezone.now() + timedelta(days=7),
        )
        item = session.items.get()
        for member in get_user_model().objects.filter(pk__in=ballot_holders(session)).order_by("pk"):
            services.council_vote(session_id=session.pk, by=member, choices={item.pk: Ballot.Choice.YES})

    def upload(self, nomination, code, by, *, revision=False):
        self.files += 1
        name = DOCUMENT_FILE_NAMES[code]
        if revision:
            name = name.replace(".pdf", "-bo-sung.pdf")
        content = PDF + f"%thidua demo {nomination.pk} {code} {self.files}\n".encode()
        upload = SimpleUploadedFile(name, content, content_type="application/pdf")
        dossier_upload(nomination=nomination, by=by, document_type=self.document_types[code], upload=upload)

    def run(self) -> Nomination:
        plan = self.plan
        nominee = self._nominee()
        nomination = services.nomination_create(
            by=self.secretary,
            campaign=self.campaign,
            award_form=self.form,
            nominee=nominee,
            procedure=plan.procedure,
            unit=self.unit,
            achievement_summary=plan.achievement_summary,
            cultivation_goals=plan.cultivation_goals,
            mentor=self.head.get_full_name() if plan.cultivation_goals else "",
        )
        for step, note in plan.steps:
            nomination = self._step(nomination, step, note)
        if plan.target == Stage.SUMMARISE:
            nomination = self.spread(nomination)
        return nomination

    def spread(self, nomination):
        """Cases still in the chain wait at different steps, so every role has work in the demo:
        up to three approvals, stopping before a council vote or a posting window."""
        for _approval in range(random.Random(f"{SEED}:{nomination.nominee.name}:{self.form.code}").randint(0, 3)):
            task = open_tasks(process=current_process(nomination)).first()
            if task is None or task.step.kind != StepKind.DECISION:
                break
            if next_position(task.process, task.step.position) is None:
                break
            nomination = services.nomination_decide(task_id=task.pk, by=self.holder(task), action=StepAction.APPROVE)
        return nomination

    def _step(self, nomination, step, note):
        plan = self.plan
        if step == "start":
            nomination = services.nomination_start_cultivation(nomination=nomination, by=self.head)
            CultivationMilestone.objects.bulk_create(
                CultivationMilestone(nomination=nomination, title=title, due_on=due, done_on=done)
                for title, due, done in MILESTONES
            )
        elif step == "upload":
            for required in self.form.required_documents.all():
                self.upload(nomination, required.document_type.code, self.secretary)
        elif step == "upload_revision":
            self.upload(nomination, DocumentType.ACHIEVEMENT_REPORT, self.secretary, revision=True)
        elif step == "consult":
            # The Board asks the tax and insurance offices about enterprises during appraisal.
            if self.city_form and plan.nominee.collective_type == T.ENTERPRISE:
                self.upload(nomination, "agency_opinion", self.person("HP.SNV.BTDKT", Role.MEMBER))
        elif step == "submit":
            nomination = services.nomination_submit(nomination=nomination, by=self.secretary)
        elif step == "return":
            nomination, task = self.advance(nomination, RETURN_AT[self.chain])
            nomination = services.nomination_decide(
                task_id=task.pk, by=self.holder(task), action=StepAction.RETURN, comment=note
            )
        elif step == "resubmit":
            nomination = services.nomination_resubmit(nomination=nomination, by=self.secretary)
        elif step == "reject":
            nomination, task = self.advance(nomination, REJECT_AT[self.chain])
            nomination = services.nomination_decide(
                task_id=task.pk, by=self.holder(task), action=StepAction.REJECT, comment=note
            )
        elif step == "award":
            nomination, task = self.advance(nomination, None)
            # The product numbers the decision; an issuer's register runs forward in time, so a
            # decision is not dated before the issuer's last one.
            last = (
                AwardDecision.objects.filter(issuer_id=task.unit_id)
                .order_by("-signed_on")
                .values_list("signed_on", flat=True)
                .first()
            )
            services.decision_sign(
                by=self.holder(task),
                task_ids=[task.pk],
                signed_on=min(max(plan.signed_on, last or plan.signed_on), timezone.localdate()),
                confirm_non_working_day=True,
            )
            nomination = Nomination.objects.get(pk=nomination.pk)
        elif step == "close":
            nomination = services.nomination_close(nomination=nomination, by=self.head, reason=note)
        elif step == "withdraw":
            nomination = services.nomination_withdraw(nomination=nomination, by=self.head, reason=note)
        else:  # pragma: no cover - a typo in the plan
            raise ValueError(step)
        return nomination

    def _nominee(self) -> Nominee:
        planned = self.plan.nominee
        nominee = Nominee.objects.create(
            kind=planned.kind,
            name=planned.name,
            unit=self.unit,
            gender=planned.gender,
            birth_date=planned.birth_date,
            ethnicity=planned.ethnicity,
            position=planned.position,
            id_number=planned.id_number,
            category=planned.category,
            collective_type=planned.collective_type,
            remote_or_island=self.unit.remote_or_island,
            pending_discipline=planned.pending_discipline,
            under_investigation=planned.under_investigation,
            pending_complaint=planned.pending_complaint,
        )
        forms = {form.code: form for form in AwardForm.objects.filter(code__in=[a[0] for a in planned.prior_awards])}
        PriorAward.objects.bulk_create(
            PriorAward(nominee=nominee, award_form=forms[code], year=year, decision_number=number)
            for code, year, number in planned.prior_awards
        )
        return nominee


def _seeded_markers() -> set[tuple]:
    """The (nominee key, form, campaign) of every demo nomination already in the database."""
    rows = Nomination.objects.filter(campaign__code__in=[REGULAR_CAMPAIGN, THEMATIC_CAMPAIGN]).values_list(
        "nominee__kind",
        "nominee__id_number",
        "nominee__unit__code",
        "nominee__name",
        "award_form__code",
        "campaign__code",
    )
    return {
        _marker(kind, id_number, unit_code, name, form_code, campaign_code)
        for kind, id_number, unit_code, name, form_code, campaign_code in rows
    }


def _marker(kind, id_number, unit_code, name, form_code, campaign_code) -> tuple:
    key = (id_number,) if kind == NomineeKind.INDIVIDUAL else (unit_code, name)
    return (kind, *key, form_code, campaign_code)


def _plan_marker(plan: PlannedNomination) -> tuple:
    nominee = plan.nominee
    return _marker(nominee.kind, nominee.id_number, nominee.unit_code, nominee.name, plan.form_code, plan.campaign_code)


def seed_demo(*, password: str = DEMO_PASSWORD, progress: Callable[[int, int], None] | None = None) -> SeedResult:
    """Load what is missing; ``progress(done, planned)`` is called as nominations are added (first
    with 0 once the reference data is in)."""
    unit_rows = _rows("haiphong-2021-units.csv")
    parents = {row["code"]: row["parent"] for row in unit_rows}
    plans = Planner(unit_rows).plan()
    demo_users = _demo_users(unit_rows)
    # Hashed at most once, and only if some account is missing (a hash takes a quarter of a second).
    password_hash = cache(lambda: make_password(password))

    with transaction.atomic():
        # The forms, document types and chains, as a real installation loads them; the demo only adds.
        load_reference_data()
        forms = AwardForm.objects.in_bulk(field_name="code")
        document_types = DocumentType.objects.in_bulk(field_name="code")
        units = _load_units(unit_rows)
        campaigns = _load_campaigns(units)
        people = _load_users(demo_users, units, password_hash)
        _load_reorganisation(units, password_hash)

    seeded = _seeded_markers()
    missing = [plan for plan in plans if _plan_marker(plan) not in seeded]
    result = SeedResult(logins=[user for user in demo_users if user.printed], password=password)
    context = {
        "people": people,
        "units": units,
        "parents": parents,
        "forms": forms,
        "campaigns": campaigns,
        "document_types": document_types,
    }
    report = progress or (lambda done, planned: None)
    report(0, len(missing))
    # The stories add nominations, never units or parent links: each day's tree is read once.
    with organisation_unchanged():
        for plan in missing:
            # One story, one transaction: an interrupted run leaves whole stories or none.
            with transaction.atomic():
                Story(plan, **context).run()
            result.created_nominations += 1
            report(result.created_nominations, len(missing))
    result.stages = Counter(
        Nomination.objects.filter(campaign__code__in=[REGULAR_CAMPAIGN, THEMATIC_CAMPAIGN]).values_list(
            "stage", flat=True
        )
    )
    return result


# --- the 2025 reorganisation ---------------------------------------------------------------------

#: A new ward reporting straight to the city from the reform day, and a school that moved under it.
REFORM_UNITS = [
    {"code": "HP.PLCH", "name": "Phường Lê Chân", "kind": UnitKind.COMMUNE, "links": [("HP", REFORM_DAY, None)]},
    {
        "code": "HP.LC.THTQT",
        "name": "Trường Tiểu học Trần Quốc Toản",
        "kind": UnitKind.UNIT,
        "links": [("HP.LC", ORGANISATION_FROM, REFORM_DAY), ("HP.PLCH", REFORM_DAY, None)],
    },
]
REFORM_USERS = [
    ("head.plch", "HP.PLCH", Role.HEAD, REFORM_DAY),
    ("deputy.plch", "HP.PLCH", Role.DEPUTY, REFORM_DAY),
    ("head.thtqt", "HP.LC.THTQT", Role.HEAD, ORGANISATION_FROM),
    ("secretary.thtqt", "HP.LC.THTQT", Role.SECRETARY, ORGANISATION_FROM),
]


#: The place the city's documents are dated from.
CITY_PLACE = "Hải Phòng"

#: Where the demo's returns and rejections happen in each chain.
RETURN_AT = {"city_regular": "board_intake", "city_simplified": "board_appraisal", "unit_level": "unit_confirm"}
REJECT_AT = {"city_regular": "board_appraisal", "city_simplified": "board_appraisal", "unit_level": "level_decision"}
COUNCIL_SIZE = 7


def _load_reorganisation(units, password_hash: Callable[[], str]) -> None:
    """The 2025 structure: a ward under the city from the reform day, with its chairman, and a
    school whose parent link to its district ends that day and continues under the ward."""
    units.update(OrganisationUnit.objects.in_bulk([spec["code"] for spec in REFORM_UNITS], field_name="code"))
    missing = [spec for spec in REFORM_UNITS if spec["code"] not in units]
    for spec in missing:
        units[spec["code"]] = OrganisationUnit.objects.create(code=spec["code"], name=spec["name"], kind=spec["kind"])
    UnitLink.objects.bulk_create(
        UnitLink(unit=units[spec["code"]], parent=units[parent], valid_from=start, valid_to=end)
        for spec in missing
        for parent, start, end in spec["links"]
    )
    User = get_user_model()
    existing = set(
        User.objects.filter(username__in=[row[0] for row in REFORM_USERS]).values_list("username", flat=True)
    )
    rng = random.Random(SEED + 2)
    for username, unit_code, role, start in REFORM_USERS:
        if username in existing:
            continue
        hashed = password_hash()
        gender = rng.choice([Gender.FEMALE, Gender.MALE])
        user = User.objects.create(
            username=username,
            first_name=person_name(rng, gender),
            email=f"{username}@thidua.example",
            password=hashed,
        )
        services.membership_create(user=user, unit=units[unit_code], role=role, valid_from=start)
