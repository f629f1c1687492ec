import pytest
from sqlalchemy import select

from app.auth import service
from app.auth.models import User
from app.core.audit import AuditEntry
from app.extensions import db
from tests import factories
from tests.helpers import bearer, sign_in


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


def create(runner, *args, password="a-long-secret-password"):
    return runner.invoke(args=["users", "create", *args], input=f"{password}\n")


def user(email):
    return db.session.scalar(select(User).where(User.email == email))


def test_create_reads_the_password_from_stdin(runner, city):
    result = create(runner, "--email", "New.Agent@City.test", "--role", "agent", "--name", "Ann")
    assert result.exit_code == 0, result.output
    assert "Created agent new.agent@city.test" in result.output
    assert "a-long-secret-password" not in result.output
    created = user("new.agent@city.test")
    assert (created.role, created.name, created.department_id) == ("agent", "Ann", None)
    assert service.authenticate("new.agent@city.test", "a-long-secret-password") is created


def test_crew_sets_the_crews_department(runner, city):
    result = create(runner, "--email", "c@city.test", "--role", "crew", "--crew", "Parks crew")
    assert result.exit_code == 0, result.output
    created = user("c@city.test")
    assert (created.crew_id, created.department_id) == (city.parks_crew.id, city.parks.id)


def test_dispatcher_gets_the_department_by_code(runner, city):
    result = create(
        runner, "--email", "d@city.test", "--role", "dispatcher", "--department", "PARKS"
    )
    assert result.exit_code == 0, result.output
    assert user("d@city.test").department_id == city.parks.id


@pytest.mark.parametrize(
    "args, password, message",
    [
        (["--role", "boss"], None, "Unknown role 'boss'; use one of agent, dispatcher"),
        (["--role", "dispatcher", "--department", "FIRE"], None, "known codes: PARKS, PWD"),
        (["--role", "crew", "--crew", "Nobody"], None, "Unknown crew 'Nobody'"),
        (["--role", "agent", "--crew", "Parks crew"], None, "Only --role crew takes --crew"),
        (
            ["--role", "crew", "--crew", "Parks crew", "--department", "PWD"],
            None,
            "belongs to department PARKS, not PWD",
        ),
        (["--role", "crew"], None, "A crew member needs a crew"),
        (["--role", "dispatcher"], None, "A dispatcher needs a department"),
        (["--role", "agent"], "short", "at least 10 characters"),
        (["--role", "agent"], "", "at least 10 characters"),
    ],
)
def test_bad_input_is_a_clear_error_and_creates_nothing(runner, city, args, password, message):
    kw = {"password": password} if password is not None else {}
    result = create(runner, "--email", "x@city.test", *args, **kw)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert user("x@city.test") is None


def test_duplicate_email_is_refused(runner, city):
    result = create(runner, "--email", "MANAGER@city.test", "--role", "manager")
    assert result.exit_code == 1
    assert "There is already an account for manager@city.test" in result.output
    assert db.session.scalar(select(User.role).where(User.email == "manager@city.test")) == (
        "manager"
    )


def test_list_shows_accounts(runner, city):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["email", "role", "department", "crew", "active"]
    crew_line = next(line for line in lines if line.startswith("crew.a@city.test"))
    assert crew_line.split() == ["crew.a@city.test", "crew", "PWD", "Pothole", "crew", "A", "yes"]


def test_deactivate_stops_sign_in_and_tokens(runner, client, city):
    token = service.issue_token(city.users["agent"])
    result = runner.invoke(args=["users", "deactivate", "--email", "Agent@city.test"])
    assert result.exit_code == 0, result.output
    assert "Deactivated agent agent@city.test" in result.output
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    listed = runner.invoke(args=["users", "list"]).output
    assert next(x for x in listed.splitlines() if x.startswith("agent@")).split()[-1] == "no"
    unknown = runner.invoke(args=["users", "deactivate", "--email", "ghost@city.test"])
    assert unknown.exit_code == 1 and "There is no account for ghost@city.test" in unknown.output


def set_password(runner, email, password):
    return runner.invoke(args=["users", "set-password", "--email", email], input=f"{password}\n")


def test_set_password_reads_the_new_password_from_stdin(runner, city):
    result = set_password(runner, "Dispatcher@City.test", "a-brand-new-password")
    assert result.exit_code == 0, result.output
    assert "Set a new password for dispatcher dispatcher@city.test" in result.output
    assert "a-brand-new-password" not in result.output
    dispatcher = city.users["dispatcher"]
    assert service.authenticate("dispatcher@city.test", "a-brand-new-password") is dispatcher
    assert service.authenticate("dispatcher@city.test", factories.PASSWORD) is None


@pytest.mark.parametrize(
    "email, password, message",
    [
        ("dispatcher@city.test", "short", "at least 10 characters"),
        ("dispatcher@city.test", "", "at least 10 characters"),
        ("ghost@city.test", "a-brand-new-password", "There is no account for ghost@city.test"),
    ],
)
def test_set_password_refuses_bad_input_and_changes_nothing(runner, city, email, password, message):
    result = set_password(runner, email, password)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert service.authenticate("dispatcher@city.test", factories.PASSWORD) is not None


def test_set_password_of_a_deactivated_account_says_it_still_cannot_sign_in(runner, city):
    service.deactivate_user(city.users["agent"])
    result = set_password(runner, "agent@city.test", "a-brand-new-password")
    assert result.exit_code == 0, result.output
    assert "deactivated: it still cannot sign in" in result.output
    assert service.authenticate("agent@city.test", "a-brand-new-password") is None


def audit_of(email: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_kind == "user", AuditEntry.target_label == email)
            .order_by(AuditEntry.id)
        )
    )


def test_create_and_deactivate_are_in_the_audit_as_the_command_line(runner, client, city):
    result = create(runner, "--email", "Night.Agent@city.test", "--role", "agent", "--name", "Nia")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "deactivate", "--email", "night.agent@city.test"])
    assert result.exit_code == 0, result.output

    created, deactivated = audit_of("night.agent@city.test")
    assert (created.action, created.actor_id, created.actor_email) == (
        "create",
        None,
        "command line",
    )
    assert created.before is None
    assert created.after == {
        "email": "night.agent@city.test",
        "name": "Nia",
        "role": "agent",
        "department": None,
        "crew": None,
        "active": True,
    }
    assert "a-long-secret-password" not in str(created.after)
    assert (deactivated.action, deactivated.actor_email) == ("deactivate", "command line")
    assert (deactivated.before["active"], deactivated.after["active"]) == (True, False)
    # the admins read them where they read their own changes
    sign_in(client, city.users["admin"])
    page = client.get("/admin/audit?kind=user&actor=command").get_data(as_text=True)
    assert "2 changes" in page and "night.agent@city.test" in page
    # a refused create leaves no entry
    assert create(runner, "--email", "night.agent@city.test", "--role", "agent").exit_code == 1
    assert len(audit_of("night.agent@city.test")) == 2


def test_deactivate_keeps_the_last_active_admin_as_the_admin_pages_do(runner, city):
    result = runner.invoke(args=["users", "deactivate", "--email", "admin@city.test"])
    assert result.exit_code == 1
    assert "admin@city.test is the last active admin" in result.output
    assert "Traceback" not in result.output
    assert user("admin@city.test").active is True
    assert audit_of("admin@city.test") == []


def test_set_password_is_in_the_audit_and_ends_the_accounts_api_tokens(runner, client, city):
    dispatcher = city.users["dispatcher"]
    token = service.issue_token(dispatcher)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200

    result = set_password(runner, "dispatcher@city.test", "a-brand-new-password")
    assert result.exit_code == 0, result.output

    [entry] = audit_of("dispatcher@city.test")
    assert (entry.action, entry.actor_id, entry.actor_email) == (
        "set_password",
        None,
        "command line",
    )
    assert entry.after == {"tokens_revoked": 1}
    assert "a-brand-new-password" not in str(entry.after)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    # a refused password leaves no entry
    assert set_password(runner, "dispatcher@city.test", "short").exit_code == 1
    assert len(audit_of("dispatcher@city.test")) == 1
