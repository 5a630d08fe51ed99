"""The form a platform admin fills in to onboard Holland Rijnland (jeugdregio JZ18) from a template."""

from __future__ import annotations

HOLLAND_RIJNLAND = {
    "naam": "Holland Rijnland",
    "slug": "holland-rijnland",
    "sjabloon": "kwaliteitsmodel-zuid-limburg",
    "jeugdregio": "JZ18",
    "toegang_email": "toegang@hollandrijnland.example",
    "postbus_inkoop": "inkoop@hollandrijnland.example",
    "postbus_gi": "gi@hollandrijnland.example",
    "postbus_inspectie": "meldingen@igj.example",
    "brief_sender": "Team inkoop Jeugdhulp Holland Rijnland",
    "brief_city": "Leiden",
    "brief_signature": "Het team inkoop Jeugdhulp Holland Rijnland",
    "brief_reply_email": "inkoop@hollandrijnland.example",
}
