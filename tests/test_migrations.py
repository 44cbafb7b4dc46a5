"""Alembic: upgrade from empty gives exactly the models' schema; downgrade works."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db
from tests import databases
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_database_url(database, tmp_path):
    if database.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"kosodate_migrations_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = databases.pg_create(name)
    yield url
    databases.pg_drop(name)


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()

        upgrade()  # and back up again, cleanly
        assert {"users", "municipalities", "networks"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()
