"""The award domain's models, one module per subject; every name stays importable from here."""

from processes.choices import (
    ACHIEVEMENT_REPORT,
    DECIDING_LEVEL_KINDS,
    DROPPED_STAGES,
    FINAL_STAGES,
    CampaignKind,
    CollectiveType,
    DecisionLevel,
    EligibilityKind,
    Enforcement,
    Gender,
    IndividualCategory,
    NomineeKind,
    Procedure,
    Role,
    Stage,
    UnitKind,
)
from processes.models.chains import (
    ChainAssignment,
)
from processes.models.consultations import (
    Consultation,
)
from processes.models.delegations import (
    DELEGATE_IS_DELEGATOR,
    Delegation,
)
from processes.models.documents import (
    AwardDecision,
    DecisionCounter,
)
from processes.models.dossiers import (
    DossierDownload,
    DossierFile,
    DossierStorage,
    _dossier_path,
    _dossier_storage,
)
from processes.models.exports import ExportJob
from processes.models.nominations import (
    CultivationMilestone,
    Decision,
    Nomination,
    refresh_search_text,
)
from processes.models.nominees import (
    Nominee,
    PriorAward,
)
from processes.models.organisation import (
    Dated,
    DatedQuerySet,
    Membership,
    OrganisationUnit,
    UnitLink,
    end_date_field,
    valid_period,
)
from processes.models.posting import (
    Objection,
)
from processes.models.reference import (
    CAMPAIGN_ENDS_BEFORE_IT_STARTS,
    AwardForm,
    Campaign,
    DocumentType,
    EligibilityRule,
    RequiredDocument,
)
from processes.models.replication import (
    ActivityEvidence,
    ActivityKind,
    DisseminationActivity,
    ReplicationPlan,
)

__all__ = [
    "ACHIEVEMENT_REPORT",
    "CAMPAIGN_ENDS_BEFORE_IT_STARTS",
    "DECIDING_LEVEL_KINDS",
    "DELEGATE_IS_DELEGATOR",
    "DROPPED_STAGES",
    "FINAL_STAGES",
    "ActivityEvidence",
    "ActivityKind",
    "AwardDecision",
    "AwardForm",
    "Campaign",
    "CampaignKind",
    "ChainAssignment",
    "CollectiveType",
    "Consultation",
    "CultivationMilestone",
    "Dated",
    "DatedQuerySet",
    "Decision",
    "DecisionCounter",
    "DecisionLevel",
    "Delegation",
    "DisseminationActivity",
    "DocumentType",
    "DossierDownload",
    "DossierFile",
    "DossierStorage",
    "EligibilityKind",
    "EligibilityRule",
    "Enforcement",
    "ExportJob",
    "Gender",
    "IndividualCategory",
    "Membership",
    "Nomination",
    "Nominee",
    "NomineeKind",
    "Objection",
    "OrganisationUnit",
    "PriorAward",
    "Procedure",
    "ReplicationPlan",
    "RequiredDocument",
    "Role",
    "Stage",
    "UnitKind",
    "UnitLink",
    "_dossier_path",
    "_dossier_storage",
    "end_date_field",
    "refresh_search_text",
    "valid_period",
]
