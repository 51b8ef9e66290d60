"""The one French translation of the messages the engines write in English: cell checks
(``core.tables``), territory and request checks, job progress, why a stop is unserved, the
planner's explanation of a plan. The CLI, the web pages and the reports all use it, so a
message reads the same through every door; an unknown message is returned as it is.

``text(message, lang)`` and ``error_lines(exc, lang)`` are the entry points (English returns
the message unchanged: the engines write English, the API's JSON keeps it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.errors import InputError, RowError, VivresError
from core.i18n_plan import PLAN_MESSAGE, plan_message_fr

_EXPECTED = (
    ("a date YYYY-MM-DD or DD/MM/YYYY", "une date AAAA-MM-JJ ou JJ/MM/AAAA"),
    ("a timestamp YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM", "une date et heure JJ/MM/AAAA HH:MM"),
    ("a time HH:MM", "une heure HH:MM"),
    ("an integer", "un nombre entier"),
    ("a number", "un nombre"),
    ("true or false", "vrai ou faux (true, false)"),
    ("weekdays like", "des jours comme"),
    ("one of", "l'une des valeurs"),
    (">=", "≥"),
    ("<=", "≤"),
    (" and ", " et "),
)
_MESSAGES = (
    # a setting's bounds (``horizon_weeks must be 1 to 260; got 0``)
    (re.compile(r"^([\w.\[\]-]+) must be (.+?); got (.+)$"), "{0} doit être {1} ; reçu {2}"),
    (re.compile(r"^is empty; expected (.+)$"), "case vide ; attendu : {0}"),
    (re.compile(r"^expected (.+)$"), "attendu : {0}"),
    (re.compile(r"^unknown (\w+) \(not in (\w+)\)$"), "{0} inconnu (absent de la table {1})"),
    (
        re.compile(r"^duplicate id \(must be unique\)$"),
        "identifiant en double (il doit être unique)",
    ),
    (
        re.compile(r"^required column is missing \(header is line 1; columns found: (.*)\)$"),
        "colonne obligatoire absente (l'en-tête est la ligne 1 ; colonnes trouvées : {0})",
    ),
)


def first_translation(patterns: Iterable[tuple[re.Pattern[str], str]], message: str) -> str | None:
    """The template of the first pattern ``message`` matches, filled with its groups."""
    for pattern, template in patterns:
        found = pattern.match(message)
        if found:
            return template.format(*found.groups())
    return None


def message_fr(message: str) -> str:
    """The French text of a cell check's message from ``core.tables`` (unknown messages are
    returned as they are)."""
    for pattern, template in _MESSAGES:
        found = pattern.match(message)
        if found:
            parts = []
            for part in found.groups():
                for english, french in _EXPECTED:
                    part = part.replace(english, french)
                parts.append(part)
            return template.format(*parts)
    return message


#: whole messages (or their start, before a colon) → French
_FIXED = {
    # territory cross-checks (core/territory.py)
    "closing time must be after opening time": "l'heure de fermeture doit suivre l'ouverture",
    "must be a site of kind 'farm'": "doit être un site de type ferme",
    "must be a site of kind 'hub' or 'depot'": "doit être un site de type pôle ou dépôt",
    "shift must end after it starts": "le service doit finir après son début",
    "has no harvest calendar rows in crop_yields": (
        "n'a pas de calendrier de récolte dans crop_yields"
    ),
    "duplicate week for this crop": "semaine en double pour cette culture",
    "the same site and storage class twice": "le même site et la même classe de stockage deux fois",
    "must be a farm (its confirmed supply) or the hub (its stock)": (
        "doit être une ferme (ce qu'elle confirme) ou le pôle (son stock)"
    ),
    "the week starts on its Monday": "la semaine commence un lundi",
    "the same site, product and week twice": "le même site, produit et semaine deux fois",
    "needs caisses.csv": "demande la table caisses.csv",
    "the same crop and planting date twice in one contract version": (
        "la même culture et date de plantation deux fois dans une version de contrat"
    ),
    "must name the household's caisse: the territory has several": (
        "doit nommer la caisse du foyer : le territoire en a plusieurs"
    ),
    "must be a producer id of producers, or * for every farm": (
        "doit être un producteur de producers, ou * pour toutes les fermes"
    ),
    # the week's request (api/http/week.py)
    "expected an ISO week (2025-W50) or a date": "attendu : une semaine (2025-W50) ou une date",
    "must be maxmin or proportional": "doit être « maxmin » ou « proportional »",
    "must be a point of sale of the territory": "doit être un point de vente du territoire",
    "must be a product of the catalogue": "doit être un produit du catalogue",
    "must be in the week": "doit tomber dans la semaine",
    "must be a farm or producer of the territory": "doit être une ferme ou un producteur",
    # scenarios (planner/scenario.py)
    "expected a list of changes": "attendu : une liste de changements",
    "expected a producer_id": "attendu : un producteur",
    "expected a whole number of households >= 0": "attendu : un nombre entier de foyers ≥ 0",
    "expected a number of euros >= 0": "attendu : un montant en euros ≥ 0",
    "expected [first, last] season weeks in 1..52": (
        "attendu : [première, dernière] semaine de saison entre 1 et 52"
    ),
    "give either product or site, not both": "donnez un produit ou un site, pas les deux",
    "give exactly one of crop or product": "donnez une culture ou un produit, pas les deux",
    "give exactly one of factor or eur_per_kg": "donnez un facteur ou un prix au kg, pas les deux",
    "no orders: the territory needs orders.csv for this change": (
        "pas de commandes : ce changement demande la table orders.csv"
    ),
    "this territory has no caisse (caisses.csv or caisse_rule.csv, and households.csv)": (
        "ce territoire n'a pas de caisse commune (caisses.csv ou caisse_rule.csv, et "
        "households.csv)"
    ),
    "the territory has no caisse (households.csv and caisse_transactions.csv)": (
        "le territoire n'a pas de caisse (households.csv et caisse_transactions.csv)"
    ),
    # why a stop is left off the routes (routing.model.REASONS)
    "time window": "horaires d'ouverture",
    "capacity": "capacité des camions",
    "compatibility": "pas de camion frigorifique ce jour",
    "no vehicle that day": "aucun camion ce jour",
    "closed": "moins de jours d'ouverture que de livraisons demandées",
    "fleet full": "flotte complète",
    # job progress (api/jobs)
    "queued": "en attente",
    "started": "démarré",
    "done": "terminé",
    "cancelled": "annulé",
    "cancel requested": "annulation demandée",
    "loading the territory": "chargement du territoire",
    "demand: weekly history, season forecast and caisse ledger": (
        "demande : historique, prévision de saison et comptes de la caisse"
    ),
    "demand: season forecast for the plan": "demande : prévision de saison pour le plan",
    "planner: solving the season plan (MILP)": "plan : calcul du plan de saison",
    "planner: writing the plan and the producer contracts": (
        "plan : écriture du plan et des contrats des producteurs"
    ),
    "routing: writing sheets, GeoJSON and maps": "tournées : écriture des feuilles et des cartes",
    "week: writing the allocation, routes and sheets": (
        "semaine : écriture des allocations, des tournées et des feuilles"
    ),
    "week: the what-if": "semaine : le scénario",
    "mutualisation: writing the report": "mutualisation : écriture du rapport",
    "no such scenario in this territory": "ce scénario n'existe pas dans ce territoire",
    # imports from Open Food Network and DFC (api/interop): why an element was not taken
    "number missing or not plain": "numéro de commande absent ou invalide",
    "no completed_at date": "pas de date de validation (completed_at)",
    "no line_items (save the detailed order: GET /api/v0/orders/{number})": (
        "pas de lignes de commande (enregistrez la commande détaillée : "
        "GET /api/v0/orders/{number})"
    ),
    "quantity or unit_value unusable": "quantité ou unit_value inutilisable",
    "OFN prices are read as euros (the instance's currency)": (
        "les prix d'Open Food Network sont lus en euros (la monnaie de l'instance)"
    ),
    "ordered by our hub (a farm pickup), not a shop order": (
        "commandé par notre pôle (un enlèvement à la ferme), pas par un point de vente"
    ),
    "no date: neither a sale session endDate nor dfc-b:date": (
        "pas de date : ni fin de session de vente (endDate) ni dfc-b:date"
    ),
    "no quantity, or its product is not mapped with kilos": (
        "pas de quantité, ou son produit ne correspond à aucun des nôtres avec des kilos"
    ),
    "sale session without a beginDate": "session de vente sans date de début (beginDate)",
    "offered product not mapped": "produit offert sans correspondance chez nous",
    "no supplier placed on our map": "fournisseur absent de notre carte",
    "new producers are written with labour_h_per_week 0 and min_revenue_eur 0: "
    "fill them in producers.csv before planning with them": (
        "les nouvelles fermes sont écrites avec 0 heure de travail par semaine et 0 € de "
        "revenu minimum : complétez producers.csv avant de planifier avec elles"
    ),
    "volumes are read as kilos (1 litre = 1 kg)": "les volumes sont lus en kilos (1 litre = 1 kg)",
    "storage_class and shelf_life_days of new products are defaults by category": (
        "la classe de stockage et la durée de conservation des nouveaux produits sont celles "
        "de leur catégorie par défaut"
    ),
    # the planner's explanation of shortfalls and of farms under their floor (readback.py)
    "no suitable farm: no partner farm grows this product (producer_crops)": (
        "aucune ferme : aucune ferme partenaire ne cultive ce produit (producer_crops)"
    ),
    "out of season: no planting window gives a harvest that keeps until this week "
    "(crop calendar and shelf life)": (
        "hors saison : aucune date de plantation ne donne une récolte qui se garde jusqu'à "
        "cette semaine (calendrier des cultures et durée de conservation)"
    ),
    "land: the farms able to grow it in time have no room for another bed": (
        "terre : les fermes qui pourraient le cultiver à temps n'ont plus de place pour une planche"
    ),
    "labour: the farms able to grow it in time have no hours left": (
        "travail : les fermes qui pourraient le cultiver à temps n'ont plus d'heures"
    ),
    "rotation: the farms able to grow it are at their family share": (
        "rotation : les fermes qui pourraient le cultiver ont atteint leur part de la famille"
    ),
    "budget: the purchase budget is spent": "budget : le budget d'achat est dépensé",
    "cost: a further bed would mostly be wasted (harvest comes in whole beds over "
    "several weeks; the rest of the week's demand is too small)": (
        "coût : une planche de plus serait surtout perdue (la récolte vient par planches "
        "entières sur plusieurs semaines ; le reste de la demande de la semaine est trop petit)"
    ),
    "storage: the stores of its class were full in the weeks it would be kept": (
        "stockage : les réserves de sa classe étaient pleines les semaines où il serait gardé"
    ),
    "land: no room left on its land for a further planting": (
        "terre : plus de place pour une plantation de plus"
    ),
    "labour: the farm's hours are used up in the weeks a further planting needs": (
        "travail : les heures de la ferme sont prises les semaines qu'il faudrait"
    ),
    "rotation: the farm is at its family share for the crops it could add": (
        "rotation : la ferme a atteint sa part de famille pour les cultures possibles"
    ),
    "season: none of the crops this farm can grow is demanded in a week it could harvest": (
        "saison : aucune culture de cette ferme n'est demandée les semaines où elle récolterait"
    ),
    "demand: the products it can grow are already covered by the plan (growing more "
    "only to pay the farm would be waste)": (
        "demande : ses produits sont déjà couverts par le plan (cultiver plus seulement pour "
        "payer la ferme serait du gaspillage)"
    ),
}
#: messages with figures or names in them
_PATTERNS = (
    # reading a territory (core/territory.py, core/tables.py)
    (
        re.compile(r"^territory folder (.+) does not exist$"),
        "le dossier du territoire {0} n'existe pas",
    ),
    (
        re.compile(r"^file not found \(expected the (\w+) table\)$"),
        "fichier introuvable (la table {0} est attendue)",
    ),
    (
        re.compile(r"^file not found \(expected \.csv, \.csv\.gz or \.xlsx\)$"),
        "fichier introuvable (attendu : .csv, .csv.gz ou .xlsx)",
    ),
    (re.compile(r"^cannot be read as a table \((.*)\)$"), "ne se lit pas comme un tableau ({0})"),
    (
        re.compile(r"^has (\d+) columns; at most (\d+) are accepted$"),
        "a {0} colonnes ; {1} au plus sont acceptées",
    ),
    (re.compile(r"^sweep: (\d+) runs$"), "sensibilité : {0} plans"),
    (
        re.compile(r"^(\d+) runs: at most (\d+) in one job \(vivres sweep for more\)$"),
        "{0} plans : au plus {1} par calcul (au-delà, la commande vivres sweep)",
    ),
    (re.compile(r"^sweep: (\d+) of (\d+) runs$"), "sensibilité : {0} plans sur {1}"),
    (
        re.compile(r"^distributor (.+) is not mapped to one of our sites$"),
        "le distributeur {0} ne correspond à aucun de nos sites",
    ),
    (
        re.compile(r"^orderedBy (.+) is not mapped to one of our sites$"),
        "le client {0} ne correspond à aucun de nos sites",
    ),
    (
        re.compile(r"^variant (.+) not mapped$"),
        "la variante {0} ne correspond à aucun de nos produits",
    ),
    (
        re.compile(r"^(\d+) orders not read: not complete, another distributor or too old$"),
        "{0} commandes non lues : non validées, d'un autre distributeur ou trop anciennes",
    ),
    (
        re.compile(r"^mutualisation: every coalition's week \((\d+) week\(s\)\)$"),
        "mutualisation : la semaine de chaque coalition ({0} semaine(s))",
    ),
    (re.compile(r"^no order in week (\S+)$"), "aucune commande dans la semaine {0}"),
    (
        re.compile(r"^exactly one site must be of kind 'hub'; found (\d+)$"),
        "un et un seul site doit être le pôle ; trouvés : {0}",
    ),
    (
        re.compile(r"^must name a succeeded (\w+) job; (\S+) does not exist$"),
        "doit désigner un calcul terminé ({0}) ; {1} n'existe pas",
    ),
    (
        re.compile(r"^must name a succeeded (\w+) job; (\S+) is a (\w+) (\w+) job$"),
        "doit désigner un calcul terminé ({0}) ; {1} est un calcul {3} à l'état {2}",
    ),
    (re.compile(r"^routing: solving week (\S+)$"), "tournées : calcul de la semaine {0}"),
    (re.compile(r"^week (\S+): sharing and routes$"), "semaine {0} : partage et tournées"),
    (
        re.compile(r"^territory changed since submission .*$"),
        "le territoire a changé depuis la demande ; calcul sur sa dernière version",
    ),
    (
        re.compile(r"^a per-site demand change needs orders.csv \(site (\S+)\)$"),
        "un changement de demande par site demande la table orders.csv (site {0})",
    ),
    (re.compile(r"^unknown farm (\S+)$"), "ferme inconnue : {0}"),
    (re.compile(r"^unknown product (\S+)$"), "produit inconnu : {0}"),
    (re.compile(r"^no territory '([^']*)'$"), "pas de territoire « {0} »"),
    (re.compile(r"^territory '([^']*)' has no (\w+) table$"), "le territoire n'a pas de table {1}"),
)


def _n(text: str) -> str:
    """An English figure (``12,345.6``) the French way (``12 345,6``)."""
    return text.replace(",", "\u202f").replace(".", ",")


def _kilos(text: str) -> str:
    return re.sub(r"\d[\d,]*(?:\.\d+)? kg", lambda m: _n(m.group(0)), text)


_SHORT_BECAUSE = {
    "storage": "du stockage",
    "cost": "du coût",
    "land": "de la terre",
    "labour": "du travail",
    "rotation": "des rotations",
    "budget": "du budget",
    "no suitable farm": "d'aucune ferme adaptée",
    "out of season": "de la saison",
}
#: the planner's explanation of a plan (``planner.readback._explain``)
_EXPLANATIONS = (
    (
        re.compile(
            r"^Crop demand ([\d,]+) kg over (\d+) weeks; ([\d.]+) % covered, ([\d,]+) kg short\.$"
        ),
        lambda m: (
            f"Demande en produits cultivés : {_n(m[1])} kg sur {m[2]} semaines ; "
            f"{_n(m[3])} % couverts, {_n(m[4])} kg manquants."
        ),
    ),
    (
        re.compile(r"^Short because of ([\w ]+) \(([\d,]+) kg\): (.+?)(?: and (\d+) more)?\.$"),
        lambda m: (
            f"Manque à cause {_SHORT_BECAUSE.get(m[1], m[1])} ({_n(m[2])} kg) : "
            f"{_kilos(m[3])}{f' et {m[4]} autres' if m[4] else ''}."
        ),
    ),
    (
        re.compile(r"^Farm (\S+) \((.+)\) reaches ([\d,]+) € of its ([\d,]+) € floor — (.+)\.$"),
        lambda m: (
            f"La ferme {m[2]} ({m[1]}) atteint {_n(m[3])} € de son plancher de "
            f"{_n(m[4])} € — {text_fr(m[5])}."
        ),
    ),
    (
        re.compile(r"^(\d+) beds of frozen contracts kept as signed \((.*)\)\.$"),
        lambda m: f"{m[1]} planches des contrats figés gardées comme signées ({m[2]}).",
    ),
    (
        re.compile(
            r"^(\d+) frozen contract lines plant outside this plan's weeks "
            r"and are not part of it\.$"
        ),
        lambda m: (
            f"{m[1]} lignes de contrats figés plantent hors des semaines de ce plan et "
            "n'en font pas partie."
        ),
    ),
    (
        re.compile(
            r"^(\d+) demanded products are not crops of the partner farms and are not planned "
            r"\(([\d,]+) kg: (.*)\)\.$"
        ),
        lambda m: (
            f"{m[1]} produits demandés ne sont cultivés par aucune ferme partenaire et ne "
            f"sont pas planifiés ({_n(m[2])} kg : {m[3]})."
        ),
    ),
    (
        re.compile(r"^(?:(--[\w-]+): )?unknown caisse '([^']*)'; known: (.*)$"),
        lambda m: (
            f"{m[1] + ' : ' if m[1] else ''}caisse inconnue « {m[2]} » ; caisses connues : {m[3]}"
        ),
    ),
    (
        re.compile(r"^Producer grid: every farm reaches (\d+) %\.$"),
        lambda m: f"Grille des producteurs : chaque ferme atteint {m[1]} %.",
    ),
    (
        re.compile(
            r"^Producer grid: (\d+) farm\(s\) below (\d+) % or short of an eliminatory "
            r"criterion get no contract: (.+?)(?: and (\d+) more)?\.$"
        ),
        lambda m: (
            f"Grille des producteurs : {m[1]} ferme(s) sous {m[2]} % ou en deçà d'un critère "
            f"éliminatoire n'ont pas de contrat : {m[3]}{f' et {m[4]} autres' if m[4] else ''}."
        ),
    ),
    (
        re.compile(
            r"^Producer grid as a preference: (\S+) € per kg × the farm's score \(mean "
            r"(\d+) %\) taken off its purchase cost in the plan's choice\.$"
        ),
        lambda m: (
            f"Grille des producteurs en préférence : {_n(m[1])} € par kg × le score de la "
            f"ferme (moyenne {m[2]} %) retirés de son coût d'achat dans le choix du plan."
        ),
    ),
)
_FIXED.update(
    {
        "Every partner farm reaches its minimum fair revenue.": (
            "Chaque ferme partenaire atteint son revenu équitable minimum."
        ),
        "The solver stopped before finding any plan: nothing is planted. Give it more time "
        "(--time-limit).": (
            "Le calcul s'est arrêté avant de trouver un plan : rien n'est planté. Donnez-lui "
            "plus de temps."
        ),
        "Nothing is planted: the solver stopped before it improved on the empty plan. Give it "
        "more time (--time-limit).": (
            "Rien n'est planté : le calcul s'est arrêté avant de faire mieux que le plan vide. "
            "Donnez-lui plus de temps."
        ),
    }
)


def text_fr(message: str) -> str:
    """The French text of one message (as it is when it is not known)."""
    message = str(message).strip()
    if message in _FIXED:
        return _FIXED[message]
    translated = first_translation(_PATTERNS, message)
    if translated is not None:
        return translated
    for pattern, build in _EXPLANATIONS:
        found = pattern.match(message)
        if found:
            return build(found)
    found = PLAN_MESSAGE.match(message)
    if found:
        return plan_message_fr(found)
    return message_fr(message)  # the cell checks of core.tables


def row_error_fr(error: RowError) -> str:
    """One problem with its place: « fichier, ligne, colonne : message ; reçu … »."""
    where = "" if error.file in ("body", "input") else error.file
    if error.row is not None:
        where += f"{', ' if where else ''}ligne {error.row}"
    if error.column:
        where += f"{', ' if where else ''}champ « {error.column} »"
    text = text_fr(error.message)
    if error.value is not None and error.value != "":
        text += f" ; reçu « {str(error.value)[:80]} »"
    if where:
        return f"{where} : {text}"
    first = text.split(" ", 1)[0]
    # a sentence starts with a capital; a field or option name (vehicle_day_eur, --rule) not
    return text if "_" in first or first.startswith("-") else text[:1].upper() + text[1:]


def errors_fr(exc: Exception) -> list[str]:
    """Every problem of an error, in French (an input error: one line per problem)."""
    if isinstance(exc, InputError):
        return [row_error_fr(e) for e in exc.errors]
    return [text_fr(str(exc))]


def error_fr(exc: Exception) -> str:
    """An error in one line of French (the problems joined)."""
    return " ; ".join(errors_fr(exc)) if isinstance(exc, VivresError) else text_fr(str(exc))


def text(message: str, lang: str = "fr") -> str:
    """One message in ``lang`` (English: as the engine wrote it)."""
    return text_fr(message) if lang == "fr" else str(message)


def error_lines(exc: Exception, lang: str = "fr") -> list[str]:
    """Every problem of an error in ``lang``: one line per problem of an input error (10 at
    most, then a count of the others)."""
    if lang != "fr":
        if isinstance(exc, InputError):
            lines = [str(e) for e in exc.errors[:10]]
            more = len(exc.errors) - 10
            return lines + ([f"(and {more} more problems)"] if more > 0 else [])
        return [str(exc)]
    lines = errors_fr(exc)
    more = len(lines) - 10
    return lines[:10] + ([f"(et {more} autres problèmes)"] if more > 0 else [])
