"""The REST API (``/api/v1/``): the screens' services and permission module behind JSON.

One module per subject (``reference``, ``tokens``, …), like the rest of the app; ``urls`` registers
them. Errors (``errors``), cursor paging (``pagination``) and throttles (``throttles``) are shared.
No rule is written here: reads are scoped by ``processes.permissions``, writes go through
``processes.services``, whose refusals become 400/403/404/409/413 answers.
"""
