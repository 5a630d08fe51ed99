"""What a decider fills in for the letters of the notice and measure steps (apps/ladders/letter_kinds.py), by letter
kind (in the seeded ladders the step key is the kind). Dates lie after every test clock."""

GROUNDS = "U heeft de gebreken uit onze ingebrekestelling niet hersteld."
CLIENTS = "De toegang draagt de zorg voor uw huidige cliënten vóór 1 juni 2030 over aan een andere aanbieder."

SHORTCOMING = "U declareert sinds januari 2026 zorg die niet is geleverd (artikel 12 van de Resultaatovereenkomst)."
IMPROVEMENT = "Lever een verbeterplan aan en corrigeer de declaraties over 2026."
INSTRUCTIONS = "Corrigeer de declaraties over 2026 en laat ons per maand zien welke zorg u heeft geleverd."
CONSEQUENCE = "Wij kunnen dan een boete opleggen of de overeenkomst ontbinden."

LETTER_FIELDS = {
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
