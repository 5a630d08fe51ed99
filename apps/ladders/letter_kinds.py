"""The legal kinds of letters and the fields the decider fills for each (issue 16 point 1).

A ladder's ``send_letter`` names its kind (``kind = "terugvordering"``): the step's confirm form then asks for the
kind's fields, the transition service refuses the step without them (Dutch, per field), and the letter prints what
the decider filled in -- never a ladder comment or an internal note. The values are stored with the decision (the
step's event and the audit entry, ``brief_velden``).

``check_fields`` reads what was typed ("€ 1.234,56", "30 dagen", "15-1-2027") and returns per field the stored value
and the text the letter prints, or a Dutch error for the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from core.formatting import aantal, format_date_nl
from core.text import ONE_LINE_NL, control_character

# Field types: what the form offers and how a value is read.
AMOUNT, LINE, TEXT, DATE, YES_NO, PAYMENT_TERM = "bedrag", "regel", "tekst", "datum", "janee", "betaaltermijn"
MAX_LINE, MAX_TEXT = 200, 2_000
MAX_PAYMENT_DAYS = 365


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str  # Dutch, next to the field
    type: str
    hint: str = ""  # Dutch, under the label
    required: bool = True
    not_before_today: bool = False  # a date: today or later
    not_after_today: bool = False  # a date: today or earlier (a talk that took place)
    missing: str = ""  # Dutch: the error when a required field is empty
    max_length: int = 0  # 0: MAX_LINE for a line, MAX_TEXT for a text


_AMOUNT = FieldSpec("bedrag", "Bedrag", AMOUNT, "In euro, bijvoorbeeld ‘12.500,00’.", missing="Vul het bedrag in.")
_PERIOD = FieldSpec("periode", "Periode", LINE, "Over welke periode, bijvoorbeeld ‘1 januari 2026 tot en met 30 juni "
                    "2026’.", missing="Vul de periode in.")  # fmt: skip
_INTEREST = FieldSpec("rente_en_kosten", "Wettelijke rente en kosten", YES_NO, "Rekent de regio wettelijke rente "
                      "(artikel 6:119 BW) en kosten?",
                      missing="Kies of de regio wettelijke rente en kosten rekent.")  # fmt: skip
_PAYMENT = FieldSpec("betaaltermijn", "Betaaltermijn", PAYMENT_TERM, "Een datum (‘15-1-2027’) of een aantal dagen na "
                     "de datum van de brief (‘30 dagen’).", missing="Vul de betaaltermijn in.")  # fmt: skip
_GROUNDS = FieldSpec("gronden", "Gronden", TEXT, "De tekortkomingen waarop het besluit rust. Deze tekst staat in de "
                     "brief.", missing="Vul de gronden in: de brief zegt waarop het besluit rust.")  # fmt: skip
_EFFECTIVE = FieldSpec("ingangsdatum", "Ingangsdatum", DATE, "Vandaag of later, bijvoorbeeld ‘1-2-2027’.",
                       not_before_today=True, missing="Vul de ingangsdatum in.")  # fmt: skip
_CLIENTS = FieldSpec("zittende_clienten", "Wat er gebeurt met de huidige cliënten", TEXT, "Bijvoorbeeld: wie hun "
                     "zorg overneemt en wanneer. Deze tekst staat in de brief.",
                     missing="Beschrijf wat er gebeurt met de huidige cliënten.")  # fmt: skip

_SHORTCOMING = FieldSpec("tekortkoming", "De tekortkoming", TEXT, "Wat de aanbieder niet, niet op tijd of niet goed "
                         "nakomt, en welke verplichting uit de overeenkomst dat is. Deze tekst staat in de brief.",
                         missing="Beschrijf de tekortkoming: wat komt de aanbieder niet na?")  # fmt: skip
_CONSEQUENCE = FieldSpec("gevolg", "Gevolg als de termijn verstrijkt", TEXT, "Wat de regio kan doen als de aanbieder "
                         "niet binnen de termijn nakomt. Deze tekst staat in de brief.",
                         missing="Vul in wat het gevolg is als de termijn verstrijkt zonder nakoming.")  # fmt: skip

_TALK_HELD = FieldSpec("gesprek_datum", "Datum van het gesprek", DATE, "De dag waarop u de afspraken maakte, "
                      "bijvoorbeeld ‘3-2-2027’.", not_after_today=True,
                      missing="Vul de datum van het gesprek in.")  # fmt: skip
# The provider's own reference (its last letter or plan): printed under "Uw kenmerk" only when filled in. Every
# step that sends a letter offers it (``letter_fields.step_fields``); it is never required.
REFERENCE = FieldSpec("uw_kenmerk", "Uw kenmerk", LINE, "Het kenmerk dat de aanbieder zelf "
                      "gebruikt, uit zijn laatste brief of plan. Staat in de brief onder ‘Uw kenmerk’.",
                      required=False, max_length=60)  # fmt: skip

KINDS: dict[str, tuple[FieldSpec, ...]] = {
    # seed 000: the purchasing team asks for a plan of action; the letter names the shortcoming (never the internal
    # summary typed at opening: the decider puts the text in this field, prefilled from that summary)
    "verzoek_plan_van_aanpak": (_SHORTCOMING,),
    # the official reminder when the plan did not come within its term
    "officiele_herinnering": (_SHORTCOMING,),
    # an invitation to a (formal) talk or to consult on an improvement trajectory; when it takes place, if known
    "uitnodiging_gesprek": (
        FieldSpec("tekortkoming", "Waarover het gesprek gaat", TEXT, "De tekortkoming die u wilt bespreken. Deze "
                  "tekst staat in de brief.", missing="Beschrijf waarover het gesprek gaat."),
        FieldSpec("gesprek", "Datum, tijd en plaats", LINE, "Als die al vastliggen, bijvoorbeeld "
                  "‘dinsdag 9 februari 2027 om 10.00 uur, stadskantoor Maastricht’. Anders vraagt de brief de "
                  "aanbieder een afspraak te maken.", required=False),
    ),  # fmt: skip
    "bevestiging_afspraken": (
        _TALK_HELD,
        FieldSpec("afspraken", "De afspraken", TEXT, "Wat u met de aanbieder heeft afgesproken: wie wat doet en "
                  "wanneer. Deze tekst staat in de brief.", missing="Vul de afspraken in die de brief bevestigt."),
    ),  # fmt: skip
    # the region tells the provider it is deemed not to comply (Lekstroom's quality article after a trajectory
    # without result): the shortcoming and what follows
    "kennisgeving_tekortkoming": (_SHORTCOMING, _CONSEQUENCE),
    # a stop on new clients (seed 000's instroomstop): why, and what happens to current clients
    "instroomstop": (
        FieldSpec("gronden", "Gronden", TEXT, "De tekortkomingen waarom nieuwe cliënten niet meer naar de aanbieder "
                  "gaan. Deze tekst staat in de brief.", missing="Vul de gronden van de instroomstop in."),
        FieldSpec("zittende_clienten", "Wat er gebeurt met de huidige cliënten", TEXT, "Bijvoorbeeld: wie hen "
                  "informeert en wie bewaakt dat zij elders een plek krijgen. Deze tekst staat in de brief.",
                  missing="Beschrijf wat er gebeurt met de huidige cliënten."),
    ),  # fmt: skip
    # lifting an intake or client stop, closing an escalation: the decision and its motivation say it all
    "opheffing": (),
    "afsluiting": (),
    # BW 6:81: the provider is in default; the letter cites the notice whose term passed. The shortcoming is printed
    # when filled in (the form offers the one the ingebrekestelling named).
    "verzuim": (FieldSpec("tekortkoming", "De tekortkoming", TEXT, "Staat in de brief. Zonder "
                          "tekst verwijst de brief naar de ingebrekestelling.", required=False),),  # fmt: skip
    "niet_verlengen": (
        _GROUNDS,
        FieldSpec("einddatum", "Einddatum van de DVO", DATE, "De dag waarop de DVO afloopt en niet wordt verlengd; "
                  "vandaag of later.", not_before_today=True, missing="Vul de einddatum van de DVO in."),
    ),  # fmt: skip
    # BW 6:82: a written summons with a reasonable term (the step's term, which the decider sets: chosen_terms)
    "ingebrekestelling": (
        _SHORTCOMING,
        FieldSpec("verbetering", "Wat de aanbieder binnen de termijn moet doen", TEXT, "De verbetering of het "
                  "verbeterplan dat u vraagt. Deze tekst staat in de brief.",
                  missing="Beschrijf wat de aanbieder binnen de termijn moet doen."),
        _CONSEQUENCE,
    ),  # fmt: skip
    "schriftelijke_waarschuwing": (
        _SHORTCOMING,
        FieldSpec("aanwijzingen", "Aanwijzingen", TEXT, "Wat de aanbieder moet doen om de tekortkoming te "
                  "herstellen. Deze tekst staat in de brief.",
                  missing="Vul de aanwijzingen in: wat moet de aanbieder doen?"),
        _CONSEQUENCE,
    ),  # fmt: skip
    "clientenstop": (
        FieldSpec("reikwijdte", "Reikwijdte", LINE, "Voor welke cliënten en welke zorg de stop geldt, bijvoorbeeld "
                  "‘alle nieuwe cliënten, alle producten’.",
                  missing="Vul de reikwijdte van de cliëntenstop in."),  # fmt: skip
        _EFFECTIVE,
    ),
    "overdracht_clienten": (
        FieldSpec("reikwijdte", "Welke cliënten", LINE, "Welke cliënten u moet overdragen, bijvoorbeeld ‘alle "
                  "cliënten met ambulante jeugd-GGZ’.", missing="Vul in welke cliënten worden overgedragen."),
        FieldSpec("ingangsdatum", "Overdracht vóór", DATE, "De datum waarop de overdracht klaar is; vandaag of "
                  "later.", not_before_today=True, missing="Vul de datum in waarop de overdracht klaar is."),
    ),  # fmt: skip
    "terugvordering": (_AMOUNT, _PERIOD, _INTEREST, _PAYMENT),
    "verrekening": (
        _AMOUNT, _PERIOD, _INTEREST,
        FieldSpec("ingangsdatum", "Verrekenen vanaf", DATE, "De datum vanaf wanneer de regio verrekent met uw "
                  "declaraties; vandaag of later.", not_before_today=True,
                  missing="Vul in vanaf welke datum de regio verrekent."),
    ),  # fmt: skip
    "boete": (
        FieldSpec("artikel", "Artikel van de overeenkomst", LINE, "Het artikel waarop de boete rust, bijvoorbeeld "
                  "‘artikel 20.2 van de Resultaatovereenkomst’.", missing="Vul het artikel van de overeenkomst in."),
        _AMOUNT, _PAYMENT,
    ),  # fmt: skip
    "ontbinding": (_GROUNDS, _EFFECTIVE, _CLIENTS),
    "opzegging": (_GROUNDS, _EFFECTIVE, _CLIENTS),
}
LETTER_KINDS = tuple(KINDS)
# The kind of each default letter (frontend/templates/brieven/): a ``send_letter`` of one of them without a ``kind``
# (a ladder version stored before kinds existed) still asks for the fields its letter prints. Every letter the
# region files' ladders send has a kind (tests/letters/test_letter_kinds_all.py).
TEMPLATE_KINDS = {
    "verzoek_plan_van_aanpak": "verzoek_plan_van_aanpak",
    "officiele_brief_plan_van_aanpak": "officiele_herinnering",
    "uitnodiging_formeel_gesprek": "uitnodiging_gesprek",
    "uitnodiging_overleg_verbetertraject": "uitnodiging_gesprek",
    "bevestiging_afspraken": "bevestiging_afspraken",
    "tekortkoming_deelovereenkomst": "kennisgeving_tekortkoming",
    "instroomstop_bericht": "instroomstop",
    "opheffing_instroomstop": "opheffing",
    "opheffing_clientenstop": "opheffing",
    "afsluiting": "afsluiting",
    "verzuim": "verzuim",
    "niet_verlengen_dvo": "niet_verlengen",
    "ingebrekestelling": "ingebrekestelling",
    "schriftelijke_waarschuwing": "schriftelijke_waarschuwing",
    "maatregel_clientenstop": "clientenstop",
    "maatregel_overdracht_clienten": "overdracht_clienten",
    "maatregel_terugvordering": "terugvordering",
    "maatregel_verrekening": "verrekening",
    "maatregel_boete": "boete",
    "ontbinding": "ontbinding",
    "opzegging": "opzegging",
}
# The ladder's StartMeasure.current_clients (Dutch, for the provider) is the first text of this field; a
# ``send_letter``'s own ``defaults`` (Dutch, by field key) are the first text of its fields.
LADDER_DEFAULTS = {"zittende_clienten": "current_clients"}


def fields_of(kinds: Iterable[str | None]) -> list[FieldSpec]:
    """The fields of the letters' kinds, each key once, in the kinds' order."""
    found: dict[str, FieldSpec] = {}
    for kind in kinds:
        for spec in KINDS.get(kind or "", ()):
            found.setdefault(spec.key, spec)
    return list(found.values())


def kind_of(letter: str, kind: str | None) -> str | None:
    """A ``send_letter``'s kind: its own, else its default letter's (``TEMPLATE_KINDS``); None for a letter of a
    region's own making that names none (it prints no field)."""
    return kind or TEMPLATE_KINDS.get(letter)


def format_amount(amount: Decimal) -> str:
    """'€ 12.500,00'."""
    whole, cents = f"{amount:.2f}".split(".")
    return f"€ {int(whole):,}".replace(",", ".") + f",{cents}"


def parse_amount(text: str) -> Decimal | None:
    """Euro as typed: '12.500,00', '12500,5', '€ 12500', '12500.50'; None when it is no amount."""
    value = re.sub(r"\s", "", text).removeprefix("€").removeprefix("EUR")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d{1,2})?|\d+(,\d{1,2})?", value):
        value = value.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"\d+\.\d{1,2}", value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def parse_date(text: str) -> date | None:
    """'2027-01-15' (a date field) or '15-1-2027' / '15/1/2027'; None otherwise."""
    value = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _check(spec: FieldSpec, text: str, today: date) -> tuple[object, str]:
    """(stored value, printed text) of one filled-in field; ValueError with the Dutch message otherwise."""
    name = spec.label.lower()
    if spec.type == AMOUNT:
        amount = parse_amount(text)
        if amount is None:
            raise ValueError(f"‘{text}’ is geen bedrag. Schrijf een bedrag in euro, bijvoorbeeld ‘12.500,00’.")
        if amount <= 0:
            raise ValueError("Het bedrag moet groter zijn dan € 0,00.")
        return f"{amount:.2f}", format_amount(amount)
    if spec.type in (LINE, TEXT):
        limit = spec.max_length or (MAX_LINE if spec.type == LINE else MAX_TEXT)
        if len(text) > limit:
            raise ValueError(f"Deze tekst is te lang: hooguit {limit} tekens.")
        # The letter prints it: a line holds no control character, a text only its line breaks and tabs.
        if control_character(text if spec.type == LINE else re.sub(r"[\r\n\t]", "", text)):
            raise ValueError("Deze regel " + ONE_LINE_NL + "." if spec.type == LINE
                             else "Deze tekst bevat een stuurteken dat niet in een brief kan staan.")  # fmt: skip
        return text, text
    if spec.type == YES_NO:
        if text not in ("ja", "nee"):
            raise ValueError(f"Kies ‘ja’ of ‘nee’ bij {name}.")
        return text == "ja", text
    if spec.type == PAYMENT_TERM:
        if m := re.fullmatch(r"(\d{1,3})(\s*(kalender)?dag(en)?)?", text.lower()):
            days = int(m[1])
            if not 1 <= days <= MAX_PAYMENT_DAYS:
                raise ValueError(f"Een betaaltermijn is 1 tot {MAX_PAYMENT_DAYS} dagen.")
            due = today + timedelta(days=days)
            within = aantal(days, "dag", "dagen")
            return {"dagen": days, "datum": due.isoformat()}, (
                f"binnen {within} na de datum van deze brief, dus uiterlijk {format_date_nl(due)}")
        due = parse_date(text)
        if due is None:
            raise ValueError(f"‘{text}’ is geen betaaltermijn. Schrijf een datum (‘15-1-2027’) of een aantal dagen "
                             "(‘30 dagen’).")  # fmt: skip
        if due <= today:
            raise ValueError("De betaaltermijn moet na vandaag eindigen.")
        return {"datum": due.isoformat()}, f"uiterlijk {format_date_nl(due)}"
    found = parse_date(text)  # DATE
    if found is None:
        raise ValueError(f"‘{text}’ is geen datum. Schrijf de datum als dag-maand-jaar, bijvoorbeeld ‘1-2-2027’.")
    if spec.not_before_today and found < today:
        raise ValueError(f"Deze datum kan niet vóór vandaag ({format_date_nl(today)}) liggen.")
    if spec.not_after_today and found > today:
        raise ValueError(f"Deze datum kan niet na vandaag ({format_date_nl(today)}) liggen.")
    return found.isoformat(), format_date_nl(found)


@dataclass
class Checked:
    values: dict[str, object]  # stored with the decision
    texts: dict[str, str]  # what the letter prints, per field
    errors: dict[str, str]  # Dutch, per field key


def check_fields(specs: Iterable[FieldSpec], typed: Mapping[str, str] | None, today: date) -> Checked:
    """Read the typed values of ``specs``: each filled-in field is checked, an empty required field is an error."""
    result = Checked({}, {}, {})
    for spec in specs:
        text = str((typed or {}).get(spec.key) or "").strip()
        if not text:
            if spec.required:
                result.errors[spec.key] = spec.missing or f"Vul ‘{spec.label}’ in."
            continue
        try:
            result.values[spec.key], result.texts[spec.key] = _check(spec, text, today)
        except ValueError as exc:
            result.errors[spec.key] = str(exc)
    return result
