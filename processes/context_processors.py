"""What every page's menu shows of the user's work: the number of rows on My work, and whether the
dashboard is theirs to open (answered from the same scope, with no query more)."""

from processes.permissions import may_see_dashboard, user_scope
from processes.selectors.my_work import my_work_count

_CACHED = "_my_work_count"
_SCOPE = "_my_work_scope"


def remember_count(request, count: int, *, scope=None) -> None:
    """My work itself has just counted its rows (with this scope): the menu shows that, with no query more."""
    setattr(request, _CACHED, count)
    if scope is not None:
        remember_scope(request, scope)


def remember_scope(request, scope) -> None:
    """The view has read the user's scope: the menu reuses it rather than reading it again."""
    setattr(request, _SCOPE, scope)


def my_work(request):
    """``my_work_count`` for the menu, once per request (a handful of counts, whatever the rows), and
    ``may_see_dashboard``."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count = getattr(request, _CACHED, None)
    scope = getattr(request, _SCOPE, None)
    if scope is None:
        scope = user_scope(user)
    if count is None:
        count = my_work_count(user, scope=scope)
        remember_count(request, count, scope=scope)
    return {"my_work_count": count, "may_see_dashboard": may_see_dashboard(user, scope=scope)}
