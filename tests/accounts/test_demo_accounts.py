"""Issue 15 point 4: a newcomer can walk seeds 001 and 004 in `make run` with the demo accounts: a West-Brabant West
team member, Roosendaal's lokale aanstuurder, and a provider with contracts in three regions whose account
Zuid-Limburg holds."""

from __future__ import annotations

from apps.accounts.tables import Membership, User
from apps.escalations.tables import Escalation
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Municipality, Region
from core.tenancy import UserScope
from tests.accounts.support import app_client, login


async def _user(subject: str) -> User:
    return await User.objects().where(User.subject == subject).first()


async def test_the_seed_001_accounts_work_in_west_brabant_west_and_one_for_roosendaal_only(world, oidc_settings):
    wbw = await Region.objects().where(Region.slug == "west-brabant-west").first()
    roos = await _user("wbw-roosendaal")
    memberships = await UserScope(roos.id).select(Membership, Membership.region, Membership.role,
                                                  Membership.municipality.name.as_alias("gemeente"))  # fmt: skip
    assert memberships == [{"region": wbw.id, "role": "gemeente_medewerker", "gemeente": "Roosendaal"}]
    roosendaal = await Municipality.objects().where(
        (Municipality.region == wbw.id) & (Municipality.cbs_code == "GM1674")).first()  # fmt: skip
    assert roosendaal.name == "Roosendaal"
    async with app_client(oidc_settings) as http:
        page = await login(http, "wbw-inkoop", "/regio/west-brabant-west/signalen")
        assert page.status_code == 200 and "Gezinshuis weigert een aangemelde jeugdige" in page.text  # the demo signal
    async with app_client(oidc_settings) as http:
        page = await login(http, "wbw-roosendaal", "/werkruimte")
        assert page.status_code == 200 and "West-Brabant West" in page.text


async def test_the_seed_004_provider_works_in_three_regions_and_zuid_limburg_holds_its_account(world, oidc_settings):
    grens = await Provider.objects().where(Provider.kvk_number == "90000005").first()
    zl = await Region.objects().where(Region.slug == "zuid-limburg").first()
    assert grens.account_region == zl.id
    continuity = await Escalation.objects().where(Escalation.provider == grens.id).first()
    async with app_client(oidc_settings) as http:
        page = await login(http, "grens-beheerder", "/portaal")
        assert page.status_code == 200 and continuity.reference in page.text
        shown = await http.get(f"/portaal/escalaties/{continuity.id}")
        assert "Accounthoudende regio" in shown.text and "Jeugdhulp Zuid-Limburg" in shown.text  # who coordinates
    contract_regions = {row["region"] for row in await Contract.select(Contract.region).where(
        Contract.provider == grens.id)}  # fmt: skip
    assert len(contract_regions) == 3
    async with app_client(oidc_settings) as http:
        listed = await login(http, "zl-inkoop", "/regio/zuid-limburg/accounthouder")
        assert listed.status_code == 200 and continuity.reference in listed.text
