"""The words of the week's paper sheets (``api/week_outputs.py``: feuilles/) in French (the
default) and English (``--lang en``, an HTTP job's ``"lang": "en"``)."""

from __future__ import annotations

#: The week's paper sheets (``api/week_outputs.py``: feuilles/) in French and English.
_SHEETS: dict[str, dict[str, str]] = {
    "fr": {
        "short_supply_kg": "approvisionnement insuffisant (partage équitable)",
        "storage_kg": "capacité de stockage du pôle",
        "fleet_kg": "tournée complète",
        "class": "Classe",
        "product": "Produit",
        "code": "Code",
        "to_prepare": "À préparer (kg)",
        "units": "Unités",
        "unit": "Unité",
        "week": "Semaine",
        "deliveries": "livraisons",
        "not_planned": "non planifiée",
        "preparation": "Préparation",
        "preparation_title": "Listes de préparation",
        "shop_col": "Point_de_vente",
        "deliveries_col": "Livraisons",
        "to_pick": "À enlever (kg)",
        "surplus": "Confirmé non enlevé (kg)",
        "committed": "Dont sous contrat (kg)",
        "visit_text": "{day} {date} vers {time}, camion {vehicle}",
        "visit": "passage",
        "not_visited": "non planifié (tournées complètes)",
        "pickup_note": "Bon d'enlèvement",
        "pickups_title": "Enlèvements fermes",
        "farm_col": "Ferme",
        "visit_col": "Passage",
        "ordered": "Commandé (kg)",
        "allocated": "Alloué (kg)",
        "delivered": "Livré (kg)",
        "gap": "Écart (kg)",
        "gap_reason": "Motif de l'écart",
        "ordered_delivered": "commandé {ordered} kg, livré {delivered} kg",
        "delivery_note": "Bon de livraison",
        "delivery_notes": "Bons de livraison",
        "organisation": "Organisation",
        "short": "Manque appro. (kg)",
        "storage": "Stockage (kg)",
        "fleet": "Tournées (kg)",
        "totals_of_week": "Totaux de la semaine {label}",
        "shops": "points de vente",
        "fleet_word": "flotte",
        "per_organisation": "par organisation",
        "cost": "Coût (€)",
        "kg_delivered": "Kilos livrés",
        "totals": "Totaux",
    },
    "en": {
        "short_supply_kg": "short supply (fair sharing)",
        "storage_kg": "the hub's storage capacity",
        "fleet_kg": "routes full",
        "class": "Class",
        "product": "Product",
        "code": "Code",
        "to_prepare": "To prepare (kg)",
        "units": "Units",
        "unit": "Unit",
        "week": "Week",
        "deliveries": "deliveries",
        "not_planned": "not planned",
        "preparation": "Picking",
        "preparation_title": "Picking lists",
        "shop_col": "Shop",
        "deliveries_col": "Deliveries",
        "to_pick": "To pick up (kg)",
        "surplus": "Confirmed, not picked up (kg)",
        "committed": "Of which under contract (kg)",
        "visit_text": "{day} {date} about {time}, truck {vehicle}",
        "visit": "visit",
        "not_visited": "not planned (routes full)",
        "pickup_note": "Pickup note",
        "pickups_title": "Farm pickups",
        "farm_col": "Farm",
        "visit_col": "Visit",
        "ordered": "Ordered (kg)",
        "allocated": "Allocated (kg)",
        "delivered": "Delivered (kg)",
        "gap": "Gap (kg)",
        "gap_reason": "Reason for the gap",
        "ordered_delivered": "ordered {ordered} kg, delivered {delivered} kg",
        "delivery_note": "Delivery note",
        "delivery_notes": "Delivery notes",
        "organisation": "Organisation",
        "short": "Short supply (kg)",
        "storage": "Storage (kg)",
        "fleet": "Routes (kg)",
        "totals_of_week": "Totals of week {label}",
        "shops": "shops",
        "fleet_word": "fleet",
        "per_organisation": "per organisation",
        "cost": "Cost (€)",
        "kg_delivered": "Kilos delivered",
        "totals": "Totals",
    },
}
_DAYS_EN = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat"}


def sheet_words(lang: str = "fr") -> dict[str, str]:
    """The labels of the week's sheets in ``lang``."""
    return _SHEETS["en" if lang == "en" else "fr"]


def day_word(code: str, lang: str = "fr") -> str:
    """A weekday code (``mon``) for a sheet: ``lun.`` / ``Mon``."""
    from core.fmt import day_fr

    return _DAYS_EN.get(code, code.title()) if lang == "en" else day_fr(code)
