"""The domain's vocabularies (unit kinds, roles, stages…), apart from the models so that guards and
rules can name them without importing a model."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("City People's Committee")
    DEPARTMENT = "department", _("Department")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune / ward")
    UNIT = "unit", _("Base unit")
    BOARD = "board", _("Emulation and Commendation Board")
    COUNCIL = "council", _("Emulation and Commendation Council")


#: Kinds whose head decides unit-level awards (a commune chairman after the 2025 reform).
DECIDING_LEVEL_KINDS = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.COMMUNE)


class Role(models.TextChoices):
    HEAD = "head", _("Head")
    DEPUTY = "deputy", _("Deputy")
    SECRETARY = "secretary", _("Secretary")
    MEMBER = "member", _("Member")


class DecisionLevel(models.TextChoices):
    CITY_CHAIRMAN = "city_chairman", _("City People's Committee Chairman")
    UNIT_LEVEL_HEAD = "unit_level_head", _("Department director / district or commune chairman")


class CampaignKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    THEMATIC = "thematic", _("Thematic")


class NomineeKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COLLECTIVE = "collective", _("Collective")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")


class IndividualCategory(models.TextChoices):
    LEADER = "leader", _("Leader")
    MANAGER = "manager", _("Manager")
    WORKER = "worker", _("Direct worker: worker")
    FARMER = "farmer", _("Direct worker: farmer")
    ENTREPRENEUR = "entrepreneur", _("Entrepreneur")
    OTHER = "other", _("Other")


class CollectiveType(models.TextChoices):
    STATE_BODY = "state_body", _("State body")
    ENTERPRISE = "enterprise", _("Enterprise")
    HOUSEHOLD = "household", _("Household")


class Stage(models.TextChoices):
    DISCOVER = "discover", _("Discover")
    CULTIVATE = "cultivate", _("Cultivate")
    SUMMARISE = "summarise", _("Summarise")
    REPLICATE = "replicate", _("Replicate")
    CLOSED = "closed", _("Closed")
    RETURNED = "returned", _("Returned for completion")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: A nominee may hold one nomination per form and campaign unless the earlier one was dropped.
DROPPED_STAGES = (Stage.REJECTED, Stage.WITHDRAWN)
FINAL_STAGES = (Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN)


class Procedure(models.TextChoices):
    REGULAR = "regular", _("Regular")
    THEMATIC = "thematic", _("Thematic")
    AD_HOC = "ad_hoc", _("Ad-hoc (simplified procedure)")
    SENIORITY = "seniority", _("Seniority")
    CONTRIBUTION = "contribution", _("Lifetime contribution")


class EligibilityKind(models.TextChoices):
    PRIOR_AWARD_STREAK = "prior_award_streak", _("Consecutive earlier awards")


class Enforcement(models.TextChoices):
    BLOCK = "block", _("Blocks entering summarise")
    WARN = "warn", _("Warning only")
    OFF = "off", _("Not applied")


#: The document type every dossier needs before it goes up.
ACHIEVEMENT_REPORT = "achievement_report"


class ApproverRule(models.TextChoices):
    """How a template step finds its holders over the organisation tree (``processes.approvers``)."""

    SUBJECT_UNIT_HEAD = "subject_unit_head", _("Head of the proposing unit")
    ANCESTOR_HEAD = "ancestor_head", _("Head of the nearest unit above of the given kinds")
    UNIT_MEMBERS = "unit_members", _("Every member of the given unit(s) (a group)")
    COUNCIL = "council", _("Members of the Emulation and Commendation Council")
    CITY_CHAIRMAN = "city_chairman", _("City chairman (or a vice-chairman on the chairman's behalf)")


class EscalationRule(models.TextChoices):
    PARENT_HEAD = "parent_head", _("Head of the parent unit")
    UNIT_HEAD = "unit_head", _("Head of the step's unit")
    UNIT_MEMBERS = "unit_members", _("Every member of the given unit(s)")
    NONE = "none", _("No escalation")


#: Rules whose parameter is required, and rules that take none.
RULES_NEEDING_PARAM = {ApproverRule.ANCESTOR_HEAD, ApproverRule.UNIT_MEMBERS}
RULES_WITHOUT_PARAM = {ApproverRule.SUBJECT_UNIT_HEAD, ApproverRule.CITY_CHAIRMAN}
