"""What every page's menu shows of the user's work: the number of rows on My work."""

from processes.selectors.my_work import my_work_count

_CACHED = "_my_work_count"


def remember_count(request, count: int) -> None:
    """My work itself has just counted its rows: the menu shows that, with no query more."""
    setattr(request, _CACHED, count)


def my_work(request):
    """``my_work_count`` for the menu, once per request (a handful of counts, whatever the rows)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count = getattr(request, _CACHED, None)
    if count is None:
        count = my_work_count(user)
        remember_count(request, count)
    return {"my_work_count": count}
