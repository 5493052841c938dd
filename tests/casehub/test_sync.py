"""Open311 service lists become a body's categories, questions and routes."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casehub.choices import DeliveryState
from casehub.sync import connection_services_refresh
from devkit.servers import Open311Server
from municipalities.choices import ConnectionKind, QuestionKind
from municipalities.models import Category, Connection, ConnectionService, Route
from tests.support.casehub import confirmed_report, deliver_due

pytestmark = pytest.mark.django_db

SERVICES = [
    {
        "service_code": "LAMP",
        "service_name": "Trasig gatlampa",
        "metadata": True,
        "type": "realtime",
        "group": "Gata",
    },
    {"service_code": "POT", "service_name": "Potthål", "metadata": False},
]
DEFINITIONS = {
    "LAMP": {
        "service_code": "LAMP",
        "attributes": [
            {
                "variable": True,
                "code": "pole",
                "datatype": "string",
                "required": True,
                "description": "Stolpnummer",
                "datatype_description": "Står på stolpen",
                "order": 1,
                "values": [],
            },
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "description": "Vad är fel?",
                "order": 2,
                "values": [
                    {"key": "dark", "name": "Släckt"},
                    {"key": "blink", "name": "Blinkar"},
                ],
            },
            {
                "variable": False,
                "code": "note",
                "datatype": "text",
                "description": "Ring 112 vid fara",
            },
        ],
    }
}


@pytest.fixture
def server():
    with Open311Server(services=SERVICES, definitions=DEFINITIONS) as server:
        yield server


@pytest.fixture
def connection(server):
    body = Connection.objects.get(body__slug="kommun-malmo").body
    return Connection.objects.create(
        body=body,
        name="Malmö Open311",
        kind=ConnectionKind.OPEN311,
        endpoint=server.url,
    )


def test_services_become_the_bodys_categories_with_questions_and_routes(connection):
    result = connection_services_refresh(connection_id=connection.pk)
    assert sorted(result.created) == ["LAMP", "POT"]
    lamp = Category.objects.get(service_codes__service_code="LAMP")
    assert (lamp.name, lamp.body, lamp.is_active) == (
        "Trasig gatlampa",
        connection.body,
        True,
    )
    questions = {q.code: q for q in lamp.questions.all()}
    assert set(questions) == {"pole", "kind"}  # "note" is not a question
    assert (
        questions["pole"].required and questions["pole"].help_text == "Står på stolpen"
    )
    assert questions["kind"].kind == QuestionKind.SINGLE
    assert questions["kind"].choices == ["Släckt", "Blinkar"]
    route = Route.objects.get(category=lamp, municipality__code="1280")
    assert (route.body, route.connection) == (connection.body, connection)
    assert not Route.objects.filter(category=lamp, municipality__code="1281").exists()


def test_a_second_sync_updates_and_retires_what_changed(server, connection):
    connection_services_refresh(connection_id=connection.pk)
    server.services = [
        {"service_code": "LAMP", "service_name": "Gatlampa", "metadata": False}
    ]
    result = connection_services_refresh(connection_id=connection.pk)
    assert (result.created, result.updated, result.deactivated) == (
        [],
        ["LAMP"],
        ["POT"],
    )
    lamp = Category.objects.get(service_codes__service_code="LAMP")
    assert lamp.name == "Gatlampa" and lamp.questions.count() == 0
    pot = Category.objects.get(service_codes__service_code="POT")
    assert not pot.is_active
    assert ConnectionService.objects.filter(connection=connection).count() == 2


def test_answers_go_to_open311_under_the_definitions_keys(server, connection):
    connection_services_refresh(connection_id=connection.pk)
    lamp = Category.objects.get(service_codes__service_code="LAMP")
    confirmed_report(category=lamp, answers={"pole": "B-12", "kind": "Blinkar"})
    assert deliver_due() == [DeliveryState.DELIVERED]
    form = server.requests[-1]["form"]
    assert (form["service_code"], form["attribute[pole]"], form["attribute[kind]"]) == (
        "LAMP",
        "B-12",
        "blink",
    )


def test_the_command_reports_an_unreachable_case_system(connection, capsys):
    connection.endpoint = "http://127.0.0.1:9/open311/"
    connection.save()
    with pytest.raises(CommandError):
        call_command("sync_services", connection=connection.pk)
    assert "connection refused" in capsys.readouterr().err
