"""Demo data for the embedded default: a few fictional providers and escalations, added to an empty database.

All names, KvK numbers and addresses are invented.
"""

from __future__ import annotations

import json
from datetime import date

from apps.accounts.roles import PROVIDER_ROLES, REGION_ROLES
from apps.accounts.tables import Invitation, Membership, User
from apps.documents.services import deliver
from apps.documents.uploads import ReceivedFile
from apps.escalations import services as escalations
from apps.escalations.letter_fields import opening_values
from apps.escalations.letters import opening_step
from apps.escalations.tables import Escalation, Signal
from apps.evidence.services import EvidenceInput, register
from apps.ladders.services import latest_version
from apps.ladders.tables import Ladder
from apps.providers.tables import Contract, Provider
from apps.quality.demo import add_demo_figures
from apps.tenancy.tables import Municipality, Region
from core.actor import Actor
from core.audit import audit
from core.settings import ROOT, VAR_DIR
from core.storage import LocalStorage, new_key
from core.tenancy import ProviderScope, RegionScope, UserScope
from core.transactions import write_transaction

DEMO_ACTOR = Actor(label="Demo", is_system=True)

PROVIDERS = [
    # kvk, name, contracts (region slug, reference)
    ("90000001", "Jeugdzorg De Vlinder B.V.", [("zuid-limburg", "DVO-2026-014"), ("lekstroom", "LEK-2026-031")]),
    ("90000002", "Stichting Samen Sterk Jeugdhulp", [("zuid-limburg", "DVO-2026-027")]),
    ("90000003", "Gezinshuis Het Anker", [("west-brabant-west", "WBW-2026-008")]),
    ("90000004", "Praktijk Kompas Jeugd-GGZ", [("west-brabant-west", "WBW-2026-019"), ("lekstroom", "LEK-2026-044")]),
    # A supra-regional provider (seed 004): contracts in three regions, Zuid-Limburg holds its account.
    ("90000005", "Jeugdzorg Over de Grens B.V.",
     [("zuid-limburg", "DVO-2026-041"), ("lekstroom", "LEK-2026-052"), ("west-brabant-west", "WBW-2026-030")]),
]
ACCOUNT_REGIONS = {"90000005": "zuid-limburg"}  # kvk -> the account-holding region the platform admin chose

# Fictional postal addresses (street, postcode, city) for the letters; De Vlinder has none, so the demo also shows
# the letter preview's warning "Postadres ontbreekt".
POSTAL_ADDRESSES = {
    "90000002": ("Voorbeeldweg 21", "6411 AA", "Heerlen"),
    "90000003": ("Proefstraat 3", "4701 AB", "Roosendaal"),
    "90000004": ("Oefenplein 14 B", "3431 AC", "Nieuwegein"),
}

ESCALATIONS = [
    # region, provider kvk, ladder, category, subcategory, summary
    (
        "zuid-limburg",
        "90000001",
        "kwaliteit",
        "veiligheid",
        "vog_werknemers",
        "Drie medewerkers werken zonder geldige VOG (ouder dan 3 jaar).",
    ),
    (
        "zuid-limburg",
        "90000002",
        "kwaliteit",
        "niet_veiligheid",
        "administratief",
        "Kwartaalrapportages Q2 en Q3 ontbreken.",
    ),
    ("lekstroom", "90000004", "kwaliteit", None, "", "Klachtenregeling niet op orde volgens signaal van de toegang."),
    ("lekstroom", "90000005", "continuiteit", "continuiteit", "meerkosten",
     "Geen overeenstemming over de meerkosten van de specialistische behandeling; krappe liquiditeit gemeld."),
    # Seed 001: two disputes about one case in West-Brabant West, each of one municipality (a pseudonymous reference,
    # never a name): Roosendaal's lokale aanstuurder (demo account wbw-roosendaal) sees hers, not Bergen op Zoom's.
    ("west-brabant-west", "90000003", "toewijzing", "geschil", "niet_geschikt",
     "Gezinshuis acht zich niet geschikt voor de gevraagde zorg; de toegang ziet dat anders."),
    ("west-brabant-west", "90000004", "toewijzing", "geschil", "tweede_50_procent",
     "Geen overeenstemming over de uitbetaling van de tweede 50% van het arrangement."),
]
# The case of each demo dispute (by summary): municipality (CBS code), the access team's reference, professionals.
CASES = {
    "Gezinshuis acht zich niet geschikt voor de gevraagde zorg; de toegang ziet dat anders.":
        ("GM1674", "RSD-2026-0031", "Jeugdprofessional toegang Roosendaal, gezinshuisouder"),
    "Geen overeenstemming over de uitbetaling van de tweede 50% van het arrangement.":
        ("GM0748", "BOZ-2026-0117", "Jeugdprofessional toegang Bergen op Zoom, behandelaar"),
}


def _case_of(summary: str) -> dict:
    if summary not in CASES:
        return {}
    municipality, reference, professionals = CASES[summary]
    return {"municipality": municipality, "case_reference": reference, "professionals": professionals}


DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


async def _demo_invitation(region_id) -> None:
    """An open invitation (West-Brabant West, observer) so every route about invitations has a row. No e-mail is
    sent, and nobody knows its link: only the hash of a random token is stored (apps.accounts.invitations)."""
    import hashlib
    import secrets
    from datetime import UTC, datetime, timedelta


    now = datetime.now(UTC)
    await RegionScope(region_id).new(
        Invitation, email="nieuwe.waarnemer@west-brabant-west.localhost", role="waarnemer",
        token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(), invited_by_label="Demo", created_at=now,
        expires_at=now + timedelta(days=14),
    ).save()  # fmt: skip


async def _demo_documents(providers: dict, storage) -> int:
    """A reply from two providers on one of their escalations, and VOG's in their registers, left through the same
    services a portal user goes through, so every page has something to show."""
    import io


    delivered = 0
    for kvk, staff in [("90000001", "0147"), ("90000004", "0031")]:
        provider = providers[kvk]
        actor = Actor(label="Demo (aanbieder)", provider_id=provider.id)
        scope = await ProviderScope.for_provider(provider.id)
        escalation = await scope.objects(Escalation).first()
        if escalation is None:
            continue
        key = new_key("documents")
        stored = storage.put(key, io.BytesIO(DEMO_PDF), "application/pdf")
        received = ReceivedFile(key=key, size=stored.size, sha256=stored.sha256, content_type="application/pdf",
                                original_filename="reactie-op-signaal.pdf")  # fmt: skip
        await deliver(scope, escalation.id, kind="reactie", received=received, actor=actor)
        vogs = [
            ("vog_medewerker", f"Medewerker {staff}", date(2024, 3, 4)),
            ("vog_vrijwilliger", f"Vrijwilliger {staff}", date(2023, 1, 9)),
        ]
        for kind, person, issued in vogs:
            await register(provider.id, EvidenceInput(kind=kind, person=person, issued_on=issued, number=""),
                           actor=actor)  # fmt: skip
        delivered += 1
    return delivered


async def load_demo_data(storage=None) -> str:
    async with write_transaction():
        if await Provider.count() > 0:
            return "Demo data: skipped (the database already has providers)."
        regions = {r.slug: r for r in await Region.objects()}
        providers = {}
        for kvk, name, contracts in PROVIDERS:
            street, postcode, city = POSTAL_ADDRESSES.get(kvk, ("", "", ""))
            account_region = regions[ACCOUNT_REGIONS[kvk]].id if ACCOUNT_REGIONS.get(kvk) in regions else None
            provider = Provider(kvk_number=kvk, name=name, postal_street=street, postal_code=postcode,
                                postal_city=city, account_region=account_region)  # fmt: skip
            await provider.save()
            providers[kvk] = provider
            for slug, reference in contracts:
                if slug in regions:
                    await (
                        RegionScope(regions[slug].id)
                        .new(
                            Contract, provider=provider.id, reference=reference, kind="dvo", valid_from=date(2026, 1, 1)
                        )
                        .save()
                    )
        opened = 0
        for slug, kvk, ladder, category, subcategory, summary in ESCALATIONS:
            if slug not in regions:
                continue
            scope = RegionScope(regions[slug].id)
            if category is None:  # the first category of that region's ladder
                row = await scope.objects(Ladder).where(Ladder.key == ladder).first()
                category = (await latest_version(scope, row)).definition["categories"][0]["key"]
            start = await opening_step(scope, ladder, category)
            await escalations.open_escalation(
                scope,
                provider=providers[kvk],
                ladder_key=ladder,
                category=category,
                subcategory=subcategory,
                summary=summary,
                motivation="Demo: geopend bij het vullen van de voorbeelddatabase.",
                actor=DEMO_ACTOR,
                # the start step's letter fields as the opening form fills them first (the summary as the shortcoming)
                letter_fields=opening_values(start, summary) if start else None,
                **_case_of(summary),
            )
            opened += 1
        await add_demo_figures(providers)  # quality figures, so the benchmark pages have a history to show
        signals = 0
        for slug, kvk, reporter, description in SIGNALS:
            if slug not in regions:
                continue
            await RegionScope(regions[slug].id).new(
                Signal, provider=providers[kvk].id, reported_by=reporter, description=description
            ).save()
            signals += 1
        if "west-brabant-west" in regions:
            await _demo_invitation(regions["west-brabant-west"].id)
    if storage is None:
        storage = LocalStorage(VAR_DIR / "objects")
    documents = await _demo_documents(providers, storage)
    return (
        f"Demo data: added {len(PROVIDERS)} providers, {opened} escalations and {signals} signals to triage"
        + (f", {documents} documents and evidence." if documents else ".")
    )


SIGNALS = [
    # region, provider kvk, who reported, what (new, not yet triaged)
    ("zuid-limburg", "90000002", "Toegangsteam Heerlen",
     "Ouders melden dat er al drie maanden geen evaluatiegesprek is geweest en het behandelplan ontbreekt."),
    ("west-brabant-west", "90000003", "Jeugdprofessional Roosendaal",
     "Gezinshuis weigert een aangemelde jeugdige met profiel 4; onenigheid over het arrangement."),
    ("lekstroom", "90000001", "Wijkteam Nieuwegein",
     "Klacht van een ouder over het uitblijven van een reactie op de klacht binnen de gestelde termijn."),
]  # fmt: skip

DEV_ACCOUNTS_FILE = ROOT / "infra" / "oidc-dev" / "accounts.json"
DEV_PROVIDER_NAME = "dev"  # the OIDC_PROVIDERS entry of the local OpenID provider (`make run`)


def dev_accounts() -> list[dict]:
    return json.loads(DEV_ACCOUNTS_FILE.read_text())["accounts"]


async def ensure_demo_accounts(issuer: str) -> str:
    """Users and roles for the demo accounts of the local OpenID provider at ``issuer`` (idempotent).

    Accounts without a "trede" entry get no user here: they log in with a KvK claim and are linked then.
    """
    regions = {r.slug: r.id for r in await Region.objects()}
    providers = {p.kvk_number: p.id for p in await Provider.objects()}
    added = 0
    async with write_transaction():
        for account in dev_accounts():
            grants = account.get("trede")
            if not grants:
                continue
            exists = await User.exists().where((User.issuer == issuer) & (User.subject == account["id"]))
            if exists:
                continue
            user = User(
                issuer=issuer,
                subject=account["id"],
                email=account["email"],
                name=account["name"],
                is_platform_admin=bool(grants.get("platform_admin")),
            )
            await user.save()
            await audit(
                "role.granted", actor_label="Demo", target_type="user", target_id=str(user.id),
                detail={"demo_account": account["id"], "roles": grants},
            )  # fmt: skip
            for slug, roles in grants.get("regions", {}).items():
                if slug not in regions:
                    continue
                scope = RegionScope(regions[slug])
                municipality = None  # a role held for one municipality: "municipalities": {slug: "GM1674"}
                if code := grants.get("municipalities", {}).get(slug):
                    row = await scope.objects(Municipality).where(Municipality.cbs_code == code).first()
                    municipality = row.id if row else None
                for role in roles:
                    if role in REGION_ROLES:
                        await scope.new(Membership, user=user.id, role=role, municipality=municipality).save()
            for kvk, roles in grants.get("providers", {}).items():
                for role in roles:
                    if kvk in providers and role in PROVIDER_ROLES:
                        await UserScope(user.id).new(Membership, provider=providers[kvk], role=role).save()
            added += 1
    return f"Demo accounts: {added} added for {issuer}." if added else "Demo accounts: present."
