"""The words a ladder's parts have for the people who edit and read it: who acts, who gets a notice, what an action
does, the units and starting points of a term, measures and letter kinds. The ladder editor's form, its checks and the
difference between two versions all use these, so a person never reads a code key (``gesprek_direct``,
``move_to_step``, ``document:plan_van_aanpak``).
"""

from __future__ import annotations

from collections.abc import Mapping

from apps.ladders.schema import DOCUMENT_NAMES, LEGAL_EXCEPTIONS

ACTOR_NAMES = {
    "regio": "de regio (team inkoop)",
    "aanbieder": "de aanbieder",
    "gemeente": "de gemeente (toegang)",
    "gezin": "het gezin",
    "extern": "een externe partij",
}
ROLE_NAMES = {
    "inkoop": "team inkoop",
    "toegang": "de toegang van de gemeenten",
    "gi": "de gecertificeerde instellingen (GI's)",
    "inspectie": "de Inspectie Gezondheidszorg en Jeugd",
    "aanbieder": "de aanbieder",
    "account_houdende_regio": "de accounthoudende regio",
    "ozj": "het Ondersteuningsteam Zorg voor de Jeugd (OZJ)",
    "jeugdautoriteit": "de Jeugdautoriteit",
    "geschillencommissie": "de Geschillencommissie Sociaal Domein",
    "zi2t": "het Zorg Informatie en Inkoop Team (Zi2T)",
    "lokale_aanstuurder": "de lokale aanstuurder van de gemeente",
}
MEASURE_NAMES = {
    "instroomstop": "instroomstop",
    "clientenstop": "cliëntenstop",
    "overdracht_clienten": "verplichte overdracht van cliënten",
    "terugvordering": "terugvordering",
    "verrekening": "verrekening met toekomstige declaraties",
    "boete": "boete",
    "ontbinding": "ontbinding",
    "opzegging": "beëindiging (opzegging)",
}
LETTER_KIND_NAMES = {  # every kind of apps/ladders/letter_kinds.py (tests/letters/test_every_kind.py)
    "verzoek_plan_van_aanpak": "verzoek om een plan van aanpak",
    "officiele_herinnering": "officiële herinnering",
    "uitnodiging_gesprek": "uitnodiging voor een gesprek",
    "bevestiging_afspraken": "bevestiging van afspraken",
    "kennisgeving_tekortkoming": "kennisgeving van een tekortkoming",
    "instroomstop": "instroomstop",
    "opheffing": "opheffing van een stop",
    "afsluiting": "afsluiting",
    "verzuim": "mededeling van verzuim",
    "niet_verlengen": "niet verlengen van de DVO",
    "ingebrekestelling": "ingebrekestelling",
    "schriftelijke_waarschuwing": "schriftelijke waarschuwing",
    "clientenstop": "cliëntenstop",
    "overdracht_clienten": "verplichte overdracht van cliënten",
    "terugvordering": "terugvordering",
    "verrekening": "verrekening",
    "boete": "boete",
    "ontbinding": "ontbinding",
    "opzegging": "opzegging",
}
# What an action does, as a choice in the form ("Actie toevoegen: ...").
ACTION_NAMES = {
    "notify": "Melding sturen",
    "demand_document": "Document vragen",
    "send_letter": "Brief sturen",
    "start_measure": "Maatregel opleggen",
    "end_measure": "Maatregel opheffen",
    "suggest_step": "Volgende stap voorstellen",
    "move_to_step": "Naar een stap gaan",
}
# Which actions each list of a step may hold (the schema refuses the others; a person decides letters and measures).
ACTIONS_ON_ENTER = tuple(ACTION_NAMES)
ACTIONS_ON_MISSED = ("notify", "demand_document", "suggest_step", "move_to_step")
ACTIONS_ON_MET = ("suggest_step", "move_to_step", "notify")
# A term's length: a number of these, or a date. The value is the Dutch word the term is written with.
TERM_UNITS = {
    "dagen": "kalenderdagen",
    "werkdagen": "werkdagen (zonder weekend en feestdagen)",
    "weken": "weken",
    "maanden": "maanden",
    "jaar": "jaar",
    "uur": "uur",
}
REMIND_UNITS = {key: TERM_UNITS[key] for key in ("werkdagen", "dagen", "weken", "uur")}
TERM_STARTS = {
    "step": "bij het begin van de stap",
    "letter": "bij ontvangst van de brief van de stap",
    "document": "bij aanlevering van een document",
    "date": "op een vaste datum",
    "contract_end": "teruggerekend vanaf het einde van de overeenkomst",
}
ORDER_NAMES = {"linear": "alleen de genoemde vervolgstappen", "free": "elke stap mag op elke stap volgen"}
EXCEPTION_NAMES = dict(LEGAL_EXCEPTIONS)


def document_name(kind: str) -> str:
    return DOCUMENT_NAMES.get(kind, kind.replace("_", " "))


def letter_name(key: str, titles: Mapping[str, str]) -> str:
    """A letter's title ("Verzoek om een plan van aanpak"), else its key in words."""
    return titles.get(key) or key.replace("_", " ").capitalize()


def met_by_words(met_by: str, step_titles: Mapping[str, str]) -> str:
    """"document:plan_van_aanpak" -> "aanlevering van het plan van aanpak"; "step:x" -> "het zetten van stap ‘X’"."""
    kind, _, value = met_by.partition(":")
    if kind == "document":
        return f"aanlevering van het {document_name(value)}"
    if kind == "step":
        return f"het zetten van stap ‘{step_titles.get(value, value)}’"
    return "niets (de termijn verloopt of eindigt met de volgende stap)"


def starts_words(starts: str) -> str:
    kind, _, value = starts.partition(":")
    if kind == "document":
        return f"bij aanlevering van het {document_name(value)}"
    if kind == "date":
        return f"op {value}"
    return TERM_STARTS.get(starts, starts)


def action_words(data: Mapping, step_titles: Mapping[str, str], letter_titles: Mapping[str, str]) -> str:
    """One action in a sentence: "melding aan team inkoop en de toegang van de gemeenten"."""
    kind = data.get("action", "")
    if kind == "notify":
        roles = [ROLE_NAMES.get(r, r) for r in data.get("roles") or []]
        return "melding aan " + (" en ".join([", ".join(roles[:-1]), roles[-1]]) if len(roles) > 1 else "".join(roles))
    if kind == "demand_document":
        return f"{document_name(data.get('document', ''))} vragen"
    if kind == "send_letter":
        return f"brief ‘{letter_name(data.get('letter', ''), letter_titles)}’"
    if kind in ("start_measure", "end_measure"):
        verb = "opleggen" if kind == "start_measure" else "opheffen"
        return f"{MEASURE_NAMES.get(data.get('measure', ''), data.get('measure', ''))} {verb}"
    if kind in ("suggest_step", "move_to_step"):
        verb = "voorstellen" if kind == "suggest_step" else "zetten"
        return f"stap ‘{step_titles.get(data.get('step', ''), data.get('step', ''))}’ {verb}"
    return ACTION_NAMES.get(kind, kind).lower()
