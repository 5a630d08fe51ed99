"""Evidence watch: a VOG nearing the end of its three years is a reminder to the provider; an expired one is a
signal for every region the provider has a contract with — and, in Zuid-Limburg (its region file says so), an
escalation in the safety category at once. Each happens once."""

from __future__ import annotations

from datetime import date, datetime

from apps.escalations.tables import Escalation, Signal
from apps.evidence.tables import EvidenceItem
from apps.evidence.watch import watch_evidence
from apps.notifications.tables import Notification
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Region
from core.clock import AMSTERDAM, FrozenClock
from core.tenancy import RegionScope


async def test_expiring_and_expired_vogs(synced):
    regions = {r.slug: RegionScope(r.id) for r in await Region.objects()}
    provider = Provider(kvk_number="90000081", name="Jeugdzorg Horizon B.V.")
    await provider.save()
    for slug in ("zuid-limburg", "lekstroom"):
        start = date(2026, 1, 1)
        contract = regions[slug].new(Contract, provider=provider.id, reference=f"{slug}-81", valid_from=start)
        await contract.save()
    for person, issued, until in [
        ("Medewerker 0001", date(2023, 12, 1), date(2026, 12, 1)),  # ends within 60 days: reminder
        ("Medewerker 0002", date(2023, 11, 1), date(2026, 11, 1)),  # expired on 2 November: signal
        ("Medewerker 0003", date(2025, 6, 1), date(2028, 6, 1)),  # fine
    ]:
        await EvidenceItem(provider=provider.id, kind="vog_medewerker", person=person, issued_on=issued,
                           valid_until=until).save()  # fmt: skip
    clock = FrozenClock(datetime(2026, 11, 24, 8, tzinfo=AMSTERDAM))

    assert await watch_evidence(clock) == {"reminded": 1, "expired": 1}
    assert await watch_evidence(clock) == {"reminded": 0, "expired": 0}  # once per item and stage

    [reminder] = await regions["lekstroom"].objects(Notification).where(Notification.template == "bewijs_verloopt")
    assert reminder.recipient == f"provider:{provider.id}"
    assert reminder.payload == {"wat": "VOG medewerker van Medewerker 0001", "vervaldatum": "1 december 2026"}

    for slug in ("zuid-limburg", "lekstroom"):
        [signal] = await regions[slug].objects(Signal).where(Signal.source == "evidence_watch")
        assert "VOG medewerker van Medewerker 0002" in signal.description
        assert "verlopen sinds 2 november 2026" in signal.description
    zl_signal = (await regions["zuid-limburg"].objects(Signal).where(Signal.source == "evidence_watch"))[0]
    lek_signal = (await regions["lekstroom"].objects(Signal).where(Signal.source == "evidence_watch"))[0]
    assert zl_signal.escalation is not None  # Zuid-Limburg: opened at once
    escalation = await regions["zuid-limburg"].get(Escalation, zl_signal.escalation)
    assert (escalation.category, escalation.subcategory) == ("veiligheid", "vog_werknemers")
    assert escalation.current_step == "gesprek_direct"
    assert lek_signal.escalation is None and lek_signal.status == "nieuw"  # Lekstroom: triage by people
