"""The directive's priority groups, as filters over nominations: direct workers (workers and farmers),
women, and remote or island areas. The case tracker filters by them and the dashboard measures the
share of awards going to each; both read them here."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from processes.choices import Gender, IndividualCategory

DIRECT_WORKER, WOMAN, REMOTE = "direct_worker", "woman", "remote"
PRIORITY_CHOICES = [
    (DIRECT_WORKER, _("Direct worker (worker or farmer)")),
    (WOMAN, _("Woman")),
    (REMOTE, _("Remote or island area")),
]
#: The priority groups as the domain has them (``Nominee.is_direct_worker``, ``remote_or_island``).
PRIORITY_FILTERS = {
    DIRECT_WORKER: Q(nominee__category__in=[IndividualCategory.WORKER, IndividualCategory.FARMER]),
    WOMAN: Q(nominee__gender=Gender.FEMALE),
    REMOTE: Q(nominee__remote_or_island=True) | Q(unit__remote_or_island=True),
}
