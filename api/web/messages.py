"""French text, inside the pages, of the messages the engines and the API write in English
(territory cross-checks, week and scenario checks, job progress and errors, the planner's
explanation of shortfalls). The API keeps its English; an unknown message is shown as it is.
"""

from __future__ import annotations

import re

from api.web.fmt import message_fr
from core.errors import InputError, RowError, VivresError

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
        re.compile(r"^Producer grid: every farm reaches (\d+) %\.$"),
        lambda m: f"Grille des producteurs : chaque ferme atteint {m[1]} %.",
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
_ERROR_KINDS = {
    "InputError": "Données refusées",
    "SolverError": "Le calcul n'a pas abouti",
    "VivresError": "Erreur",
    "NotFound": "Introuvable",
}


def text_fr(message: str) -> str:
    """The French text of one message (as it is when it is not known)."""
    message = str(message).strip()
    if message in _FIXED:
        return _FIXED[message]
    for pattern, template in _PATTERNS:
        found = pattern.match(message)
        if found:
            return template.format(*found.groups())
    for pattern, build in _EXPLANATIONS:
        found = pattern.match(message)
        if found:
            return build(found)
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
    return f"{where} : {text}" if where else text[:1].upper() + text[1:]


def errors_fr(exc: Exception) -> list[str]:
    """Every problem of an error, in French (an input error: one line per problem)."""
    if isinstance(exc, InputError):
        return [row_error_fr(e) for e in exc.errors]
    return [text_fr(str(exc))]


def error_fr(exc: Exception) -> str:
    """An error in one line of French (the problems joined)."""
    return " ; ".join(errors_fr(exc)) if isinstance(exc, VivresError) else text_fr(str(exc))


#: the parts of a job's stored error (``InputError: file row 3, column 'x': message; got 'v'``)
_ROW_PART = re.compile(
    r"^(?P<file>[^:;]+?)(?: row (?P<row>\d+))?(?:, column '(?P<column>[^']*)')?: "
    r"(?P<message>.+?)(?:; got (?P<value>.+))?$"
)


def job_error_fr(error: str | None) -> str:
    """A failed job's error (as the worker stores it) in French; an internal error stays as
    it is behind a French sentence."""
    if not error:
        return ""
    kind, _, rest = error.partition(": ")
    if kind not in _ERROR_KINDS:
        if error.startswith("internal error"):
            return f"Erreur interne du calcul (à signaler) : {error}"
        return text_fr(error)
    parts = []
    for part in re.split(r"; (?=[\w./-]+(?: row \d+)?(?:, column '[^']*')?: )", rest):
        found = _ROW_PART.match(part)
        if found is None or found["file"] in ("input",):
            parts.append(text_fr(found["message"] if found else part))
            continue
        value = found["value"]
        parts.append(
            row_error_fr(
                RowError(
                    file=found["file"],
                    row=int(found["row"]) if found["row"] else None,
                    column=found["column"],
                    message=found["message"],
                    value=value.strip("'\"") if value else None,
                )
            )
        )
    return f"{_ERROR_KINDS[kind]} : " + " ; ".join(parts)
