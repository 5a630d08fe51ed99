"""Onboarding a region on /beheer/regios: from a template, with a whole youth-care region, mailboxes, letters,
colours (WCAG contrast), closed days, a logo; Dutch errors next to the fields and nothing typed lost; every
action audited; regions made here survive `trede tenants sync`."""

from __future__ import annotations

import html
import re
from datetime import date

from apps.audit.tables import AuditEntry
from apps.ladders import services as ladder_services
from apps.ladders.tables import Ladder
from apps.providers.tables import Contract, Provider
from apps.tenancy.export import region_settings
from apps.tenancy.services import MANAGED_IN_ADMIN, municipalities_on, sync_tenants
from apps.tenancy.tables import Region, RegionMailbox
from core.tenancy import RegionScope
from tests.accounts.support import app_client, csrf_headers, login
from tests.admin.support import HOLLAND_RIJNLAND
from tests.letter_fields import opening
from tests.querycount import counting_statements
from tests.support import ROOT

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def _create(http, **changes):
    return await http.post("/beheer/regios/nieuw", data={**HOLLAND_RIJNLAND, **changes}, headers=csrf_headers(http))


async def test_a_platform_admin_creates_a_region_from_a_template(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        form = await http.get("/beheer/regios/nieuw")
        assert form.status_code == 200 and "Kwaliteitsmodel Zuid-Limburg" in form.text and "JZ18" in form.text
        created = await _create(http)
        assert created.status_code == 303 and created.headers["location"].startswith("/beheer/regios/holland-rijnland")
        page = await http.get(created.headers["location"])
        assert "De regio is aangemaakt" in page.text and "Leiderdorp" in page.text

    region = await Region.objects().where(Region.slug == "holland-rijnland").first()
    assert region.name == "Holland Rijnland" and region.source_file == MANAGED_IN_ADMIN
    scope = RegionScope(region.id)
    municipalities = await municipalities_on(scope, region.synced_at.date())
    assert len(municipalities) == 13 and "Leiden" in {m.name for m in municipalities}
    assert {r["role"] for r in await scope.select(RegionMailbox, RegionMailbox.role)} == {"inkoop", "gi", "inspectie"}
    ladder = await scope.objects(Ladder).where(Ladder.key == "kwaliteit").first()
    latest = await ladder_services.latest_version(scope, ladder)
    assert latest.version == 1 and ladder_services.spec_of(latest).steps[0].key == "verzoek_plan_van_aanpak"
    entry = await scope.objects(AuditEntry).where(AuditEntry.action == "admin.region.create").first()
    assert entry.actor_label == "Bram Beheer" and entry.detail["template"] == "kwaliteitsmodel-zuid-limburg"

    # The start-up sync of tenants/ neither deactivates nor overwrites a region made on the admin pages.
    changes = await sync_tenants(ROOT / "tenants")
    assert "holland-rijnland" not in {c.slug for c in changes}
    again = await Region.objects().where(Region.slug == "holland-rijnland").first()
    assert again.active and again.source_sha256 == region.source_sha256


async def test_refusals_are_dutch_next_to_the_field_and_keep_what_was_typed(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        refused = await _create(http, slug="Holland Rijnland!", postbus_gi="", brief_reply_email="geen-adres",
                                jeugdregio="", sjabloon="")  # fmt: skip
        assert refused.status_code == 422
        text = refused.text
        assert 'id="slug-fout"' in text and "Gebruik kleine letters, cijfers en streepjes" in text
        assert 'id="gemeenten-fout"' in text and "Kies een jeugdregio of minstens één gemeente." in text
        assert 'id="sjabloon-fout"' in text and "Kies een van de ladders" in text
        assert 'id="brief_reply_email-fout"' in text and "‘geen-adres’ is geen geldig e-mailadres" in text
        assert 'value="Team inkoop Jeugdhulp Holland Rijnland"' in text  # nothing typed is lost
        # The chosen ladder sends notices to the GI's: their mailbox is required.
        no_gi = await _create(http, postbus_gi="")
        assert no_gi.status_code == 422 and 'id="postbus_gi-fout"' in no_gi.text
        taken = await _create(http, slug="zuid-limburg")
        assert taken.status_code == 422 and "De korte naam ‘zuid-limburg’ is al in gebruik" in taken.text
    assert not await Region.exists().where(Region.slug == "holland-rijnland")


async def test_settings_colours_closed_days_and_logo(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        await _create(http)
        base = "/beheer/regios/holland-rijnland"
        pale = await http.post(f"{base}/kleuren", data={"kleur_primary": "#ffcc00"}, headers=csrf_headers(http))
        assert pale.status_code == 422 and "contrast van 1.5:1" in pale.text and 'value="#ffcc00"' in pale.text
        dark = await http.post(f"{base}/kleuren", data={"kleur_primary": "#00468C", "kleur_accent": "#6b2d5c"},
                               headers=csrf_headers(http))  # fmt: skip
        assert dark.status_code == 303
        css = await http.get("/regio/holland-rijnland/thema.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8" and "--utrecht-link-color: #00468c;" in css.text
        assert '<link rel="stylesheet" href="/regio/holland-rijnland/thema.css">' in (await http.get(base)).text

        bad_day = await http.post(f"{base}/gesloten_dagen", data={"dag": "24-12-2026", "omschrijving": ""},
                                  headers=csrf_headers(http))  # fmt: skip
        assert bad_day.status_code == 422 and "Vul een datum in als jjjj-mm-dd" in bad_day.text
        assert "Zeg waarom de regio die dag dicht is" in bad_day.text
        day = await http.post(f"{base}/gesloten_dagen", data={"dag": "2026-12-24", "omschrijving": "Kerstavond"},
                              headers=csrf_headers(http))  # fmt: skip
        assert day.status_code == 303 and "24 december 2026: Kerstavond" in (await http.get(base)).text

        mailboxes = await http.post(f"{base}/postbussen", data={"postbus_inkoop": "nieuw@hollandrijnland.example"},
                                    headers=csrf_headers(http))  # fmt: skip
        assert mailboxes.status_code == 422  # the ladder notifies the GI's and the inspectorate: still needed
        assert 'id="postbus_gi-fout"' in mailboxes.text
        assert "dit e-mailadres is nodig" in mailboxes.text

        token = http.cookies.get("csrftoken")
        not_an_image = await http.post(f"{base}/logo", data={"_csrf_token": token},
                                       files={"logo": ("logo.pdf", b"%PDF-1.4 fake", "application/pdf")})  # fmt: skip
        assert not_an_image.status_code == 415 and "Een logo is een afbeelding: PNG of JPEG." in not_an_image.text
        disguised = await http.post(f"{base}/logo", data={"_csrf_token": token},
                                    files={"logo": ("logo.png", b"GIF89a" + b"\x00" * 20, "image/png")})  # fmt: skip
        assert disguised.status_code == 415
        too_big = await http.post(f"{base}/logo", data={"_csrf_token": token},
                                  files={"logo": ("logo.png", PNG + b"\x00" * 600_000, "image/png")})  # fmt: skip
        assert too_big.status_code == 413
        logo = await http.post(
            f"{base}/logo", data={"_csrf_token": token}, files={"logo": ("logo.png", PNG, "image/png")}
        )
        assert logo.status_code == 303
        shown = await http.get(f"{base}/logo")
        assert shown.status_code == 200 and shown.content == PNG and shown.headers["content-type"] == "image/png"

    region = await Region.objects().where(Region.slug == "holland-rijnland").first()
    settings = region_settings(region)
    assert settings["theme"] == {"primary": "#00468c", "accent": "#6b2d5c"}
    assert settings["calendar"]["extra_closed_days"] == [{"date": "2026-12-24", "label": "Kerstavond"}]
    assert settings["letters"]["logo"].startswith("logos/")
    stored = http.app.state.storage
    assert stored.exists(settings["letters"]["logo"])
    actions = {r["action"] for r in await RegionScope(region.id).select(AuditEntry, AuditEntry.action)}
    assert {
        "admin.region.create",
        "admin.region.kleuren",
        "admin.region.gesloten_dagen",
        "admin.region.logo",
    } <= actions


async def test_only_a_platform_admin_reaches_the_admin_pages(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead")
        assert (await http.get("/beheer/regios")).status_code == 404
        assert (await _create(http)).status_code == 404
    assert not await Region.exists().where(Region.slug == "holland-rijnland")


async def test_a_region_from_tenants_is_changed_in_its_file_not_here(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        refused = await http.post("/beheer/regios/zuid-limburg/brieven", data={"brief_sender": "X"},
                                  headers=csrf_headers(http))  # fmt: skip
        assert refused.status_code == 422 and "komt uit tenants/zuid-limburg.toml" in refused.text


async def test_the_first_lead_is_invited_accepts_by_logging_in_and_opens_an_escalation(world, oidc_settings):
    from apps.accounts.tables import Membership, User
    from apps.escalations.tables import Escalation
    from apps.notifications.tables import Notification

    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        await _create(http)
        base = "/beheer/regios/holland-rijnland"
        bad = await http.post(f"{base}/contracten", data={"kvk": "123", "contract_kenmerk": "", "ingangsdatum": "x"},
                              headers=csrf_headers(http))  # fmt: skip
        assert bad.status_code == 422 and "Een KvK-nummer heeft 8 cijfers" in bad.text
        unknown = await http.post(
            f"{base}/contracten",
            headers=csrf_headers(http),
            data={"kvk": "12345678", "contract_kenmerk": "DVO-HR-1", "ingangsdatum": "2026-01-01"},
        )
        assert unknown.status_code == 422 and "Trede kent KvK-nummer 12345678 nog niet" in unknown.text
        contract = await http.post(f"{base}/contracten", headers=csrf_headers(http),
                                   data={"kvk": "90000001", "contract_kenmerk": "DVO-HR-2026-001",
                                         "ingangsdatum": "2026-01-01"})  # fmt: skip
        assert contract.status_code == 303
        assert "Jeugdzorg De Vlinder B.V. (KvK 90000001): DVO-HR-2026-001" in (await http.get(base)).text

        wrong = await http.post(f"{base}/uitnodigen", data={"uitnodiging_email": "geen adres"},
                                headers=csrf_headers(http))  # fmt: skip
        assert wrong.status_code == 422 and 'id="uitnodiging_email-fout"' in wrong.text
        invited = await http.post(f"{base}/uitnodigen", data={"uitnodiging_email": "h.nieuwland@regio.localhost"},
                                  headers=csrf_headers(http))  # fmt: skip
        assert invited.status_code == 303
        assert "h.nieuwland@regio.localhost" in (await http.get(base)).text

    region = await Region.objects().where(Region.slug == "holland-rijnland").first()
    scope = RegionScope(region.id)
    mail = await scope.objects(Notification).where(Notification.template == "uitnodiging").first()
    link = mail.payload["link"]
    path = link[link.index("/uitnodiging/") :]
    async with app_client(oidc_settings) as henk:
        accepted = await login(henk, "henk-nieuw", path)
        assert "U heeft de uitnodiging aanvaard" in accepted.text
        user = await User.objects().where(User.subject == "henk-nieuw").first()
        roles = {r["role"] for r in await scope.select(Membership, Membership.role).where(Membership.user == user.id)}
        assert roles == {"inkoop_lead"}
        assert (await henk.get("/regio/holland-rijnland/ladders/kwaliteit/bewerken")).status_code == 200
        opened = await henk.post(
            "/api/v1/regions/holland-rijnland/escalations", headers=csrf_headers(henk),
            json={"provider_kvk": "90000001", "ladder": "kwaliteit", "category": "niet_veiligheid",
                  "subcategory": "administratief", "summary": "Kwartaalrapportage ontbreekt",
                  "motivation": "Eerste escalatie in Holland Rijnland",
                  "letter_fields": opening("niet_veiligheid")},
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
    escalation = await scope.objects(Escalation).first()
    assert escalation.current_step == "verzoek_plan_van_aanpak" and escalation.reference.startswith("HR")


async def test_a_file_with_the_same_slug_does_not_overwrite_a_region_of_the_admin_pages(world, oidc_settings,
                                                                                        tenants_copy):  # fmt: skip
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        await _create(http)
        exported = (await http.get("/beheer/regios/holland-rijnland/export.toml")).text
    (tenants_copy / "holland-rijnland.toml").write_text(exported.replace('name = "Holland Rijnland"', 'name = "X"'))
    before = await Region.objects().where(Region.slug == "holland-rijnland").first()
    changes = {c.slug: c.describe() for c in await sync_tenants(tenants_copy)}
    assert changes["holland-rijnland"] == (
        "holland-rijnland: unchanged (managed on the admin pages; the file is not applied)"
    )
    after = await Region.objects().where(Region.slug == "holland-rijnland").first()
    assert after.name == "Holland Rijnland" and after.active and after.source_sha256 == before.source_sha256


async def test_the_contracts_of_a_region_page_by_reference(world, oidc_settings):
    """A region with many contracts: the admin's region page lists 50 at a time, in order of reference, with the
    count, and "Volgende contracten" / "Vorige contracten" walk the list (each contract exactly once)."""
    region = await Region.objects().where(Region.slug == "lekstroom").first()
    scope = RegionScope(region.id)
    provider = Provider(kvk_number="91234567", name="Paginering Jeugdhulp B.V.")
    await provider.save()
    before = len(await scope.select(Contract, Contract.id))
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        await http.get("/beheer/regios/lekstroom")
        with counting_statements() as few:
            await http.get("/beheer/regios/lekstroom")
    new = [scope.new(Contract, provider=provider.id, reference=f"PAG-{n:03}", valid_from=date(2026, 1, 1))
           for n in range(1, 121)]  # fmt: skip
    await scope.insert(Contract, *new)
    try:
        async with app_client(oidc_settings) as http:
            await login(http, "beheer")
            url, seen, pages = "/beheer/regios/lekstroom", [], []
            while url:
                page = await http.get(url)
                assert page.status_code == 200
                pages.append(page.text)
                seen += re.findall(r"(PAG-\d{3}), vanaf", page.text)
                found = re.search(r'href="([^"]+)#contracten">Volgende contracten', page.text)
                url = html.unescape(found.group(1)) if found else ""
            assert seen == [f"PAG-{n:03}" for n in range(1, 121)]
            with counting_statements() as many:
                await http.get("/beheer/regios/lekstroom")
            assert many.count <= few.count, (few.count, many.count)
            assert len(pages) == -(-(before + 120) // 50) and f"{before + 120} contracten, op kenmerk" in pages[0]
            back = re.search(r'href="([^"]+)#contracten">Vorige contracten', pages[-1])
            previous = await http.get(html.unescape(back.group(1)))
            assert re.findall(r"(PAG-\d{3}), vanaf", previous.text) == re.findall(r"(PAG-\d{3}), vanaf", pages[-2])
    finally:
        await scope.delete(Contract).where(Contract.provider == provider.id)
        await Provider.delete().where(Provider.id == provider.id)
