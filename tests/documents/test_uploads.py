"""Uploads on an escalation, through the app as a provider user logged in through the real local OpenID provider:
a delivered plan of action meets the deadline; refused files (too large, wrong type, empty, path tricks, no CSRF)
answer with a Dutch message next to the field and leave nothing in storage or the database; a failure after
storing deletes the object; downloads are authorised per side (another provider or region: 404)."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import pytest

from apps.documents import services as documents
from apps.documents.tables import Document
from apps.escalations.tables import Deadline, TimelineEvent
from core.tenancy import RegionScope
from tests.accounts.support import app_client, login
from tests.portal.support import JPEG, OLE2, PDF, PNG, ooxml, plain_zip


def stored_keys(http) -> list[str]:
    return list(http.app.state.storage.list_keys())


async def document_count(escalation) -> int:
    """Documents the provider uploaded (the ladder's own letters are documents of the escalation too)."""
    scope = RegionScope(escalation.region)
    return await scope.count(Document).where((Document.escalation == escalation.id) & (Document.kind != "brief"))


def field_error(text: str, field: str) -> str:
    match = re.search(rf'<p class="utrecht-form-field-error-message" id="{field}-fout">Fout: ([^<]*)</p>', text)
    return html.unescape(match.group(1)) if match else ""


async def post_file(http, escalation, name, data, *, kind="plan_van_aanpak", csrf=True, **extra):
    fields = {"_csrf_token": http.cookies.get("csrftoken")} if csrf else {}
    fields.update({"soort": kind, **extra})
    return await http.post(
        f"/portaal/escalaties/{escalation.id}/documenten",
        data=fields,
        files={"bestand": (name, data, "application/octet-stream")},
        headers={"accept": "text/html"},
    )


@pytest.fixture
async def vera(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        page = await login(http, "vlinder-medewerker", "/portaal")
        assert page.status_code == 200, page.text[:300]
        yield http


async def test_a_plan_of_action_meets_the_deadline_and_is_on_the_shared_timeline(world, vera):
    escalation = world["zl"]
    page = await vera.get(f"/portaal/escalaties/{escalation.id}")
    assert "Lever een plan van aanpak aan, uiterlijk op" in page.text
    answer = await post_file(vera, escalation, "Plan van aanpak – De Vlinder.pdf", PDF)
    assert answer.status_code == 303, answer.text[:500]
    page = await vera.get(answer.headers["location"])
    assert "Daarmee is de termijn op tijd gehaald." in page.text
    scope = RegionScope(escalation.region)
    document = (
        await scope.objects(Document).where(Document.original_filename == "Plan van aanpak – De Vlinder.pdf").first()
    )
    assert document is not None
    assert document.sha256 == hashlib.sha256(PDF).hexdigest() and document.size == len(PDF)
    assert document.content_type == "application/pdf" and document.object_key.startswith("documents/")
    assert "Vlinder" not in document.object_key
    deadline = (
        await scope.objects(Deadline)
        .where((Deadline.met_by == "document:plan_van_aanpak") & (Deadline.escalation == escalation.id))
        .first()
    )
    assert deadline.status == "met"
    kinds = [e["kind"] for e in await scope.select(TimelineEvent, TimelineEvent.kind)]
    assert "document_ontvangen" in kinds and "termijn_gehaald" in kinds

    # A new version replaces the first; both stay (nothing is deleted by a provider).
    again = await post_file(vera, escalation, "plan-v2.docx", ooxml("word"), vervangt=str(document.id))
    assert again.status_code == 303, again.text[:500]
    rows = [
        row for row in await scope.objects(Document).order_by(Document.uploaded_at)
        if row.original_filename in ("Plan van aanpak – De Vlinder.pdf", "plan-v2.docx")
    ]  # fmt: skip
    assert len(rows) == 2 and rows[1].replaces == rows[0].id
    assert {row.object_key for row in rows} <= set(stored_keys(vera))
    page = await vera.get(f"/portaal/escalaties/{escalation.id}")
    assert "vervangen door een nieuwere versie" in page.text and "(vervangt Plan van aanpak" in page.text

    # The provider downloads its own file, as an attachment with the original name, safely quoted.
    download = await vera.get(f"/portaal/documenten/{document.id}")
    assert download.status_code == 200 and download.content == PDF
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Plan van aanpak _ De Vlinder.pdf"; filename*=UTF-8')
    assert "%E2%80%93" in disposition


async def test_late_delivery_is_accepted_and_recorded_as_late(world, vera):
    escalation = world["zl"]
    scope = RegionScope(escalation.region)
    deadline = (
        await scope.objects(Deadline)
        .where((Deadline.met_by == "document:plan_van_aanpak") & (Deadline.escalation == escalation.id))
        .first()
    )
    await scope.update(Deadline, {Deadline.due_at: deadline.starts_at - timedelta(days=1)}).where(
        Deadline.id == deadline.id
    )
    answer = await post_file(vera, escalation, "plan.pdf", PDF)
    page = await vera.get(answer.headers["location"])
    assert "te laat" in page.text
    payloads = [e["payload"] for e in await scope.select(TimelineEvent).where(TimelineEvent.kind == "termijn_gehaald")]
    assert payloads and payloads[0]["te_laat"] is True


REFUSED = [
    ("groot.pdf", PDF + b"0" * 200_001, 413, "Het bestand is te groot. Het mag ten hoogste 195 kB zijn."),
    ("programma.pdf", b"MZ\x90\x00" + b"\x00" * 100, 415, "Dit bestandstype is niet toegestaan."),
    ("plan.docx", PDF, 415, "De inhoud van het bestand past niet bij de extensie '.docx'."),
    ("plan.pdf", PNG, 415, "De inhoud van het bestand past niet bij de extensie '.pdf'."),
    ("plan.docx", plain_zip(), 415, "Dit is geen geldig Word-bestand."),
    ("tabel.xlsx", ooxml("word"), 415, "Dit is geen geldig Excel-bestand."),
    ("plan.exe", OLE2, 415, "Dit bestandstype is niet toegestaan."),
    ("leeg.pdf", b"", 422, "Het bestand is leeg."),
    ("../../etc/plan.pdf", PDF, 422, "De bestandsnaam mag geen mapnamen of pad bevatten"),
    ("/etc/passwd.pdf", PDF, 422, "De bestandsnaam mag geen mapnamen of pad bevatten"),
    ("C:\\Users\\vera\\plan.pdf", PDF, 422, "De bestandsnaam mag geen mapnamen of pad bevatten"),
    ("plan\x00.pdf", PDF, 422, "De bestandsnaam bevat ongeldige tekens"),
    ("plan\n.pdf", PDF, 422, "De bestandsnaam bevat ongeldige tekens"),
    (".htaccess.pdf", PDF, 422, "De bestandsnaam mag geen mapnamen of pad bevatten"),
]


async def test_refused_files_store_nothing_and_say_why_next_to_the_field(world, vera):
    escalation = world["zl"]
    for name, data, status, message in REFUSED:
        answer = await post_file(vera, escalation, name, data)
        assert answer.status_code == status, (name, answer.text[:300])
        assert field_error(answer.text, "bestand").startswith(message), (name, field_error(answer.text, "bestand"))
        assert 'aria-invalid="true"' in answer.text
        assert f'name="_csrf_token" value="{vera.cookies.get("csrftoken")}"' in answer.text  # the form works again
        assert stored_keys(vera) == [], name
        assert await document_count(escalation) == 0
    deadline = (
        await RegionScope(escalation.region)
        .objects(Deadline)
        .where((Deadline.met_by != "") & (Deadline.escalation == escalation.id))
        .first()
    )
    assert deadline.status == "open"


ALLOWED = [
    ("scan.png", PNG, "image/png"),
    ("foto.JPG", JPEG, "image/jpeg"),
    ("oud.doc", OLE2, "application/msword"),
    ("cijfers.xls", OLE2, "application/vnd.ms-excel"),
    ("cijfers.xlsx", ooxml("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
]


async def test_allowed_types_are_recognised_by_their_bytes(world, vera):
    for name, data, content_type in ALLOWED:
        answer = await post_file(vera, world["zl"], name, data, kind="reactie")
        assert answer.status_code == 303, answer.text[-2000:]
        document = (
            await RegionScope(world["zl"].region).objects(Document).where(Document.original_filename == name).first()
        )
        assert document.content_type == content_type, name


async def test_a_wrong_kind_is_refused_before_a_byte_is_stored(world, vera):
    answer = await post_file(vera, world["zl"], "plan.pdf", PDF, kind="brief")
    assert answer.status_code == 422
    assert field_error(answer.text, "soort") == "Kies welk document u aanlevert."
    assert stored_keys(vera) == []


async def test_without_the_csrf_token_nothing_is_stored(world, vera):
    answer = await post_file(vera, world["zl"], "plan.pdf", PDF, csrf=False)
    assert answer.status_code == 403
    assert stored_keys(vera) == [] and await document_count(world["zl"]) == 0
    forged = await vera.post(
        f"/portaal/escalaties/{world['zl'].id}/documenten",
        data={"_csrf_token": "x" * 128, "soort": "reactie"},
        files={"bestand": ("plan.pdf", PDF, "application/pdf")},
    )
    assert forged.status_code == 403 and stored_keys(vera) == []


async def test_a_failure_after_storing_leaves_no_orphan_object(world, vera, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(documents, "deliver", broken)
    answer = await post_file(vera, world["zl"], "plan.pdf", PDF)
    assert answer.status_code == 500
    assert stored_keys(vera) == [] and await document_count(world["zl"]) == 0


async def test_storage_failing_midway_leaves_no_orphan_object(world, vera):
    storage = vera.app.state.storage
    original = storage.put

    def failing_put(key, stream, content_type):
        def exploding():
            yield stream.read(1000)
            raise OSError("disk full")

        class Half:
            parts = exploding()

            def read(self, size=-1):
                return next(self.parts)

        return original(key, Half(), content_type)

    storage.put = failing_put
    answer = await post_file(vera, world["zl"], "plan.pdf", PDF + b"x" * 50_000)
    assert answer.status_code == 500
    storage.put = original
    assert stored_keys(vera) == [] and await document_count(world["zl"]) == 0


async def test_downloads_only_for_the_own_provider_and_the_region(world, vera, oidc_settings):
    answer = await post_file(vera, world["zl"], "plan.pdf", PDF)
    assert answer.status_code == 303
    own = await RegionScope(world["zl"].region).objects(Document).where(Document.original_filename == "plan.pdf").first()  # noqa: E501
    # A document of another provider's escalation in the same region: not Vera's.
    from apps.providers.tables import Provider
    from core.actor import Actor
    from core.tenancy import ProviderScope

    samen = await Provider.objects().where(Provider.kvk_number == "90000002").first()
    other_scope = await ProviderScope.for_provider(samen.id)
    key = "documents/" + "0" * 32
    vera.app.state.storage.put(key, __import__("io").BytesIO(PDF), "application/pdf")
    other = await documents.deliver(
        other_scope,
        world["other"].id,
        kind="reactie",
        actor=Actor("Sam", provider_id=samen.id),
        received=documents.ReceivedFile(key, len(PDF), hashlib.sha256(PDF).hexdigest(), "application/pdf", "x.pdf"),
    )
    assert (await vera.get(f"/portaal/documenten/{other.document.id}")).status_code == 404
    assert (await vera.get(f"/portaal/documenten/{own.id}")).status_code == 200

    async with app_client(oidc_settings) as region:
        await login(region, "zl-inkoop")
        ok = await region.get(f"/regio/zuid-limburg/documenten/{own.id}")
        assert (
            ok.status_code == 200 and ok.content == PDF and ok.headers["content-disposition"].startswith("attachment")
        )
        assert (await region.get(f"/regio/zuid-limburg/documenten/{other.document.id}")).status_code == 200
        assert (await region.get(f"/regio/lekstroom/documenten/{own.id}")).status_code == 404
    async with app_client(oidc_settings) as lek:
        await login(lek, "lek-inkoop")
        assert (await lek.get(f"/regio/lekstroom/documenten/{own.id}")).status_code == 404
        assert (await lek.get(f"/regio/zuid-limburg/documenten/{own.id}")).status_code == 404
