"""Flask extensions, created unbound; create_app() binds them. Imports nothing from app."""

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import UpdateBase

# Named constraints make migrations reproducible and downgradable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: the WSGI environ key under which app/core/replica.py puts the engine a request reads from
READ_ENGINE_KEY = "city311.read_engine"


class RoutingSession(FlaskSession):
    """db.session: a request marked by app/core/replica.py reads from the replica.

    Writes never do: a flush, and INSERT/UPDATE/DELETE statements, take the primary, as
    does every request that was not marked (the default).
    """

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        if (
            bind is None
            and has_request_context()
            and not self._flushing
            and not isinstance(clause, UpdateBase)
        ):
            bind = request.environ.get(READ_ENGINE_KEY)
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})

# The models' base class. mypy cannot take an attribute of an instance (db.Model) as a base
# class; db.Model is a subclass of Base, so type checking sees the models as Base's.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class JsonHeaderApi(Api):
    """flask-smorest's Api, with X-Pagination documented as what it sends: JSON in a string.

    The header's value is `json.dumps` of the page metadata, but flask-smorest documents
    it as an object, which no HTTP header can be; clients and schema checkers read the
    document literally.
    """

    def _register_pagination_header(self) -> None:
        if self.spec.openapi_version.major >= 3:
            self.spec.components.header("PAGINATION", PAGINATION_HEADER, lazy=True)


#: the X-Pagination header as the paginated list endpoints send it
PAGINATION_HEADER = {
    "description": (
        "Page metadata, as a JSON object in the header's text: total and total_pages; "
        "when there are items, also first_page, last_page and page, and previous_page / "
        "next_page when there is one. A list too large to count at every request (a staff "
        "search by a common word) counts only so far: it then adds total_is_lower_bound: "
        "true, total and last_page are how far it counted, and next_page is there while "
        "there are more."
    ),
    "schema": {
        "type": "string",
        "example": '{"total": 120, "total_pages": 3, "first_page": 1, "last_page": 3, '
        '"page": 2, "previous_page": 1, "next_page": 3}',
    },
}

api = JsonHeaderApi()
