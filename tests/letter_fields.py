"""What a decider fills in for the letters of the notice and measure steps (apps/ladders/letter_kinds.py), by letter
kind (in the seeded ladders the step key is the kind). Dates lie after every test clock, a talk held before any."""

GROUNDS = "U heeft de gebreken uit onze ingebrekestelling niet hersteld."
CLIENTS = "De toegang draagt de zorg voor uw huidige cliënten vóór 1 juni 2030 over aan een andere aanbieder."

SHORTCOMING = "U declareert sinds januari 2026 zorg die niet is geleverd (artikel 12 van de Resultaatovereenkomst)."
IMPROVEMENT = "Lever een verbeterplan aan en corrigeer de declaraties over 2026."
INSTRUCTIONS = "Corrigeer de declaraties over 2026 en laat ons per maand zien welke zorg u heeft geleverd."
CONSEQUENCE = "Wij kunnen dan een boete opleggen of de overeenkomst ontbinden."

QUALITY = "De kwartaalrapportages over het tweede en derde kwartaal van 2026 ontbreken."
AGREEMENTS = "U levert vóór 1 juni 2030 van alle begeleiders een geldige VOG aan; wij bellen u elke week."

LETTER_FIELDS = {
    "verzoek_plan_van_aanpak": {"tekortkoming": QUALITY},
    "officiele_herinnering": {"tekortkoming": QUALITY},
    "uitnodiging_gesprek": {"tekortkoming": QUALITY, "gesprek": "dinsdag 4 juni 2030 om 10.00 uur, stadskantoor"},
    "bevestiging_afspraken": {"gesprek_datum": "16-12-2024", "afspraken": AGREEMENTS},
    "kennisgeving_tekortkoming": {"tekortkoming": QUALITY, "gevolg": CONSEQUENCE},
    "instroomstop": {"gronden": "Drie begeleiders werken zonder geldige VOG.", "zittende_clienten": CLIENTS},
    "opheffing": {},
    "afsluiting": {},
    "verzuim": {"tekortkoming": SHORTCOMING},
    "niet_verlengen": {"gronden": GROUNDS, "einddatum": "31-12-2030"},
    "ingebrekestelling": {"tekortkoming": SHORTCOMING, "verbetering": IMPROVEMENT, "gevolg": CONSEQUENCE},
    "schriftelijke_waarschuwing": {"tekortkoming": SHORTCOMING, "aanwijzingen": INSTRUCTIONS, "gevolg": CONSEQUENCE},
    "clientenstop": {"reikwijdte": "alle nieuwe cliënten, alle producten", "ingangsdatum": "1-6-2030"},
    "overdracht_clienten": {"reikwijdte": "alle cliënten met ambulante jeugd-GGZ", "ingangsdatum": "1-6-2030"},
    "terugvordering": {"bedrag": "12.500,00", "periode": "1 januari 2026 tot en met 30 juni 2026",
                       "rente_en_kosten": "ja", "betaaltermijn": "30 dagen"},  # fmt: skip
    "verrekening": {"bedrag": "8.250,50", "periode": "het eerste kwartaal van 2026", "rente_en_kosten": "nee",
                    "ingangsdatum": "1-6-2030"},  # fmt: skip
    "boete": {"artikel": "artikel 20.2 van de Resultaatovereenkomst", "bedrag": "5000", "betaaltermijn": "1-7-2030"},
    "ontbinding": {"gronden": GROUNDS, "ingangsdatum": "1-6-2030", "zittende_clienten": CLIENTS},
    "opzegging": {"gronden": GROUNDS, "ingangsdatum": "1-6-2030", "zittende_clienten": CLIENTS},
}


def form_fields(kind: str) -> dict[str, str]:
    """The same, as the confirm form posts them ("veld_bedrag")."""
    return {f"veld_{key}": value for key, value in LETTER_FIELDS[kind].items()}


# The seeded ladders' steps whose letters have fields, by step key: what a test's decider fills in there.
STEP_FIELDS = {
    "verzoek_plan_van_aanpak": LETTER_FIELDS["verzoek_plan_van_aanpak"],
    "officiele_brief": LETTER_FIELDS["officiele_herinnering"],
    "formeel_gesprek": LETTER_FIELDS["uitnodiging_gesprek"],
    "overleg_verbetertraject": LETTER_FIELDS["uitnodiging_gesprek"],
    "afspraken_per_brief": LETTER_FIELDS["bevestiging_afspraken"],
    "verbetertraject": LETTER_FIELDS["bevestiging_afspraken"],
    "overeenstemming": LETTER_FIELDS["bevestiging_afspraken"],
    "tekortkoming": LETTER_FIELDS["kennisgeving_tekortkoming"],
    "instroomstop": LETTER_FIELDS["instroomstop"],
    "dvo_niet_verlengd": LETTER_FIELDS["niet_verlengen"],
}
# The start step of a seeded category whose opening sends a letter (Zuid-Limburg's non-safety branch, Lekstroom's
# quality article).
START_STEPS = {"niet_veiligheid": "verzoek_plan_van_aanpak", "kwaliteit": "overleg_verbetertraject"}


def opening(category: str | None) -> dict[str, str]:
    """The letter fields an opening in ``category`` needs (none for a start step without a letter)."""
    return dict(STEP_FIELDS.get(START_STEPS.get(category or "", ""), {}))


def step_form(step: str) -> dict[str, str]:
    """The same for a step's confirm form ("veld_tekortkoming")."""
    return {f"veld_{key}": value for key, value in STEP_FIELDS.get(step, {}).items()}
