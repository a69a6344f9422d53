"""The cache the public pages' rate limits count in: Django's database cache, with an atomic ``incr``.

The counts must be shared by every web process (a per-process memory cache would multiply the limit by
their number) and the embedded run has no Redis, so they live in a database table
(``manage.py createcachetable``). Django's ``DatabaseCache.incr`` reads the value and writes it back
with a fresh expiry: two requests at once would both count one, and each request would push the
expiry of the count on. Here the row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
immediate transactions take the write lock first) and only its value is written.
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils.timezone import now


class CountingDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # The table's name comes from the settings, quoted; the key is a parameter.
            cursor.execute(f"SELECT value, expires FROM {table} WHERE cache_key = %s{lock}", [key])  # noqa: S608
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key {key!r} not found.")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301 (our own rows)
            stored = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [stored, key])  # noqa: S608
        return value

    @staticmethod
    def _expired(connection, expires) -> bool:
        # As DatabaseCache.get_many reads the column: through the backend's converters.
        expression = models.Expression(output_field=models.DateTimeField())
        for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
            expires = converter(expires, expression, connection)
        return expires < now().replace(microsecond=0)
