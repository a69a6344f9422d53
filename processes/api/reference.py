"""Reference data: organisation units, award forms, campaigns (read-only; administrators edit them in
the admin). Everyone signed in may read them: they name no person."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from processes.models import AwardForm, Campaign, OrganisationUnit
from processes.organisation import OrgTree


class UnitSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = OrganisationUnit
        fields = ["id", "code", "name", "kind", "remote_or_island", "parent"]

    def get_parent(self, unit) -> int | None:
        return self.context["tree"].parent.get(unit.pk)


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Organisation units, with today's parent."""

    lookup_value_converter = "id"

    serializer_class = UnitSerializer
    queryset = OrganisationUnit.objects.all()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "tree": OrgTree.on()}


class AwardFormSerializer(serializers.ModelSerializer):
    class Meta:
        model = AwardForm
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "decision_level",
            "for_individual",
            "for_collective",
            "for_household",
            "council_vote",
            "public_posting_working_days",
            "is_active",
        ]


class AwardFormViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_converter = "id"
    serializer_class = AwardFormSerializer
    queryset = AwardForm.objects.all()


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "code",
            "name",
            "launching_unit",
            "kind",
            "period_start",
            "period_end",
            "submission_deadline",
            "target_direct_workers_percent",
            "target_women_percent",
            "target_remote_percent",
        ]


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_converter = "id"
    serializer_class = CampaignSerializer
    queryset = Campaign.objects.all()
