"""Sessions in the database, each write one statement.

Django's database backend makes sure a new key is free with a SELECT before it INSERTs
the session, and wraps every write in a transaction of its own: BEGIN, the statement,
COMMIT. Every guest's first BUY paid four round trips for its session, every later one
three. The session table's primary key already refuses a taken key (the INSERT fails, and
create() draws another, as it does when its SELECT lost a race to a concurrent request),
and one statement outside any transaction is a transaction by itself.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # 32 of 36 characters, 165 bits: a collision is the constraint's to catch.
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        using = router.db_for_write(self.model)
        if connections[using].in_atomic_block:
            # Inside a caller's transaction Django's savepoint keeps it usable when the
            # INSERT of a taken key fails.
            return super().save(must_create)
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)
        obj = self.create_model_instance(data)
        try:
            # What Django does, without the atomic block around one statement.
            obj.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise
        return None
