"""What the CLI says to people, in French (the default) or English (``--lang en``).

``say(key, lang, **values)`` formats one message; ``label(key, lang)`` names a figure of a
summary (the JSON keys stay English: they are for programs)."""

from __future__ import annotations

import re

from core.i18n import first_translation

MESSAGES: dict[str, dict[str, str]] = {
    "loading": {"fr": "Chargement du territoire", "en": "Loading the territory"},
    "demand": {
        "fr": "Demande : historique hebdomadaire et prévision de la saison",
        "en": "Demand: weekly history and season forecast",
    },
    "planner": {
        "fr": "Planification : plan de cultures et d'approvisionnement de la saison (MILP)",
        "en": "Planner: season crop and supply plan (MILP)",
    },
    "routing": {
        "fr": "Tournées : camions partagés de la semaine {week}",
        "en": "Routing: shared-truck routes of week {week}",
    },
    "starting": {"fr": "Démarrage", "en": "Starting"},
    "solving_week": {
        "fr": "Calcul des tournées de la semaine {week} ({start})",
        "en": "Solving week {week} ({start})",
    },
    "sharing_week": {
        "fr": "Semaine {week} : partage et tournées",
        "en": "Week {week}: sharing and routes",
    },
    "done": {"fr": "Terminé", "en": "Done"},
    "files_written": {
        "fr": "{count} fichiers écrits dans [bold]{out}[/]",
        "en": "{count} files written to [bold]{out}[/]",
    },
    "routes_title": {
        "fr": "Semaine {week} à partir du {start} — méthode {method}, moteur {engine}",
        "en": "Week {week} from {start} — method {method}, engine {engine}",
    },
    "routes_total": {
        "fr": "total {km} km, {hours} h, {cost} €, {co2} kg de CO2 ; calculé en {seconds} s",
        "en": "total {km} km, {hours} h, {cost} €, {co2} kg CO2; solved in {seconds} s",
    },
    "guided_note": {
        "fr": "[yellow]note :[/] la recherche guidée tourne jusqu'à la limite de temps : les "
        "tournées dépendent de la vitesse de la machine",
        "en": "[yellow]note:[/] guided search runs until the time limit: the routes depend on "
        "the machine's speed",
    },
    "cut_note": {
        "fr": "[yellow]note :[/] la recherche de {days} a été coupée par la limite de temps : "
        "un autre calcul peut donner d'autres tournées (augmentez --time-limit)",
        "en": "[yellow]note:[/] the search of {days} was cut by the time limit: another run "
        "may give other routes (raise --time-limit)",
    },
    "unserved": {
        "fr": "[bold red]{count} arrêt(s) non desservi(s)[/] ({kg} kg), voir unserved.csv :",
        "en": "[bold red]{count} stop(s) not served[/] ({kg} kg), see unserved.csv:",
    },
    "week_title": {
        "fr": "Semaine {week} à partir du {start} — {shops} points de vente",
        "en": "Week {week} from {start} — {shops} shops",
    },
    "shared": {
        "fr": "partagés ({method}) : {products} ; taux de service minimal {min_fill} %, "
        "Gini {gini}, non distribué {undistributed} kg",
        "en": "shared ({method}): {products}; min fill rate {min_fill} %, Gini {gini}, "
        "undistributed {undistributed} kg",
    },
    "nothing_short": {
        "fr": "rien ne manque cette semaine : chaque commande est allouée en entier",
        "en": "nothing short this week: every order is allocated in full",
    },
    "no_supply_note": {
        "fr": "[yellow]note :[/] {count} produit(s) cultivé(s) sans offre confirmée cette "
        "semaine (availability.csv) ni plan (--plan) : tournées faites sur les commandes",
        "en": "[yellow]note:[/] {count} grown product(s) have no confirmed supply this week "
        "(availability.csv) nor a plan (--plan): routed as ordered",
    },
    "week_routes": {
        "fr": "tournées {km} km, {cost} € ; {unserved} arrêt(s) non desservi(s) ({kg} kg) ; "
        "{seconds} s",
        "en": "routes {km} km, {cost} €; {unserved} stop(s) unserved ({kg} kg); {seconds} s",
    },
    "what_if": {
        "fr": "[bold]simulation[/] par rapport à la semaine telle quelle :",
        "en": "[bold]what-if[/] against the week as it is:",
    },
    "plan_status": {
        "fr": "[bold]{status}[/] ({solver} : {message}) · objectif {objective} € · meilleure "
        "borne {bound} € · écart {gap} · {seconds} s (modèle construit en {build} s)",
        "en": "[bold]{status}[/] ({solver}: {message}) · objective {objective} € · best bound "
        "{bound} € · gap {gap} · {seconds} s (model built in {build} s)",
    },
    "plan_figures": {
        "fr": "couverture {coverage} % · manque {short} kg · pertes {waste} kg · achats "
        "{purchases} € · revenu des fermes min. {revenue_min} € / médian {revenue_median} € · "
        "{local} % à moins de 50 km",
        "en": "coverage {coverage} % · short {short} kg · waste {waste} kg · purchases "
        "{purchases} € · farm revenue min {revenue_min} € / median {revenue_median} € · "
        "{local} % within 50 km",
    },
    "caisse_size": {
        "fr": "{budget} € sur {months} mois avec la règle {rule} : {people} personnes"
        "{households} ({monthly} € par mois)",
        "en": "{budget} € over {months} months with the rule {rule}: {people} people"
        "{households} ({monthly} € a month)",
    },
    "caisse_size_households": {"fr": ", {households} ménages", "en": ", {households} households"},
    "caisse_credits": {
        "fr": "{count} crédits, {amount} {currency} → {out} (et {twin})",
        "en": "{count} credits, {amount} {currency} → {out} (and {twin})",
    },
    "caisse_approvable": {
        "fr": "{site} est déjà conventionnable par {caisse}",
        "en": "{site} can already be approved by {caisse}",
    },
    "beds_kept": {
        "fr": "{name} : {kept} des {farms} fermes qui plantent encore gardent ≥ 95 % de leurs "
        "planches du plan de base (médiane {median} %) ; des {spared} qui ne cultivent aucun "
        "produit touché, {spared_kept} ; des {calm} qui ne reprennent aucune culture, "
        "{calm_kept}",
        "en": "{name}: {kept} of {farms} farms still planting keep ≥ 95 % of their base beds "
        "(median {median} %); of the {spared} unable to grow any product the change touches, "
        "{spared_kept}; of the {calm} taking over no crop, {calm_kept}",
    },
    "kpi_comparison": {
        "fr": "comparaison des indicateurs écrite dans [bold]{path}[/]",
        "en": "KPI comparison written to [bold]{path}[/]",
    },
    "plan_files": {
        "fr": "{count} fichiers écrits dans [bold]{out}[/] (report.md, plan.csv, harvest.csv, "
        "coverage.csv, farms.csv, contracts/ ; chaque CSV avec son .xlsx)",
        "en": "{count} files written to [bold]{out}[/] (report.md, plan.csv, harvest.csv, "
        "coverage.csv, farms.csv, contracts/; each CSV with its .xlsx)",
    },
    "warning": {"fr": "[yellow]attention :[/] {text}", "en": "[yellow]warning:[/] {text}"},
    # vivres check
    "check_title": {"fr": "Territoire {data}", "en": "Territory {data}"},
    "check_columns": {"fr": "table|fichier|lignes|rejetées", "en": "table|file|rows|rejected"},
    "absent": {"fr": "(absent)", "en": "(absent)"},
    "check_sites": {"fr": "sites : {kinds}", "en": "sites: {kinds}"},
    "check_valid": {
        "fr": "[green]le territoire est valide[/]",
        "en": "[green]territory is valid[/]",
    },
    "check_error": {"fr": "[bold red]erreur :[/] {text}", "en": "[bold red]error:[/] {text}"},
    "check_count": {
        "fr": "{count} problème(s) dans {files} fichier(s)",
        "en": "{count} problem(s) in {files} file(s)",
    },
    "check_more": {"fr": " ; {more} autres non affichés", "en": "; {more} more not shown"},
    "check_all_in": {"fr": ", tous dans {path}", "en": ", all of them in {path}"},
    "check_list_all": {
        "fr": " (--errors FICHIER les liste tous)",
        "en": " (--errors FILE lists them all)",
    },
    "check_rejected": {
        "fr": "[yellow]rejetée :[/] {file}.csv, ligne {row}, champ « {column} » : {reason}",
        "en": "[yellow]rejected:[/] {file}.csv row {row}, column '{column}': {reason}",
    },
    "check_under": {
        "fr": "[yellow]{count} foyer(s) cotisent sous le minimum par personne de leur "
        "caisse[/] : {shown}{more}",
        "en": "[yellow]{count} household(s) contribute under their caisse's minimum per "
        "person[/]: {shown}{more}",
    },
    "check_under_one": {
        "fr": "{household} (households.csv, ligne {row} : {paid} € < {minimum} €)",
        "en": "{household} (households.csv row {row}: {paid} € < {minimum} €)",
    },
    "and_more": {"fr": " et {count} autres", "en": " and {count} more"},
    # vivres demand
    "forecasting": {"fr": "Prévision sur {horizon} semaines", "en": "Forecasting {horizon} weeks"},
    "hub_forecast_title": {
        "fr": "Prévision de la demande du pôle (kg par mois, intervalles à {level} % dans les "
        "fichiers)",
        "en": "Hub demand forecast (kg per month, {level}% intervals in the files)",
    },
    "methods_chosen": {
        "fr": "méthodes choisies par rétro-test sur l'historique : {methods}",
        "en": "methods chosen by backtest on the history: {methods}",
    },
    "forecast_done": {
        "fr": "{series} séries × {horizon} semaines ; {count} fichiers écrits dans [bold]{out}[/]",
        "en": "{series} series × {horizon} weeks; {count} files written to [bold]{out}[/]",
    },
    "payments_left_out": {
        "fr": "[yellow]{count} paiement(s) écarté(s)[/] : {reason}",
        "en": "[yellow]{count} payment(s) left out[/]: {reason}",
    },
    "payments_listed": {
        "fr": "paiements écartés listés dans {path}",
        "en": "rejected payments listed in {path}",
    },
    "ledger_title": {
        "fr": "Comptes de la caisse (règle {rule} : {first} € + {further} € par personne en plus)",
        "en": "Caisse ledger (rule {rule}: {first} € + {further} € per further person)",
    },
    "ledger_note": {
        "fr": "cofin = allocations − cotisations : ce que les cofinanceurs apportent chaque mois",
        "en": "cofin = allocations − contributions: what co-funders must bring each month",
    },
    "caisse_title": {
        "fr": "{name} ({cid}, {currency}, crédit non dépensé : {unspent})",
        "en": "{name} ({cid}, {currency}, unspent credit: {unspent})",
    },
    "caisse_columns": {
        "fr": "mois|ménages|cotisations €|cofinancement €|crédité €|dépensé €|trésorerie €",
        "en": "month|households|contributions €|co-funding €|credited €|spent €|cash €",
    },
    "caisse_runs_out": {
        "fr": "{cid} : trésorerie négative à partir de {month}",
        "en": "{cid}: cash negative from {month}",
    },
    "caisse_stays": {
        "fr": "{cid} : la trésorerie reste positive sur la période",
        "en": "{cid}: cash stays positive over the period",
    },
    "caisse_under": {
        "fr": "{count} ménage(s) cotisent sous le minimum de leur caisse (signalés, jamais "
        "modifiés) : caisse_contributions.csv",
        "en": "{count} household(s) contribute under their caisse's minimum (flagged, never "
        "changed): caisse_contributions.csv",
    },
    "caisse_grid": {
        "fr": "grille : {approved} commerce(s) conventionné(s) sur {count}",
        "en": "grid: {approved} shop(s) approved of {count}",
    },
    "ledger_whatif_note": {
        "fr": " ; en plus = ce que la simulation y ajoute",
        "en": "; extra = what the what-if adds to it",
    },
}

LABELS: dict[str, dict[str, str]] = {
    # summary stages
    "territory": {"fr": "territoire"},
    "demand": {"fr": "demande"},
    "plan": {"fr": "plan de saison"},
    "routes": {"fr": "tournées"},
    # figures
    "coverage_pct": {"fr": "couverture de la demande (%)"},
    "demand_kg": {"fr": "demande en cultures (kg)"},
    "shortfall_kg": {"fr": "manque (kg)"},
    "waste_kg": {"fr": "pertes (kg)"},
    "harvest_kg": {"fr": "récolte (kg)"},
    "purchase_cost_eur": {"fr": "achats aux fermes (€)"},
    "revenue_farm_min_eur": {"fr": "revenu minimal d'une ferme (€)"},
    "revenue_farm_median_eur": {"fr": "revenu médian des fermes (€)"},
    "farms_below_floor": {"fr": "fermes sous leur revenu plancher"},
    "floor_gap_eur": {"fr": "écart aux revenus planchers (€)"},
    "local_share_pct": {"fr": "part à moins de 50 km (%)"},
    "farms_supplying": {"fr": "fermes qui livrent"},
    "beds": {"fr": "planches"},
    "fair_price_gap_eur": {"fr": "écart au prix juste (€)"},
    "uncertainty_eur": {"fr": "incertitude d'optimalité (€)"},
    "short_eur_per_kg": {"fr": "coût d'un kilo manquant (€/kg)"},
    "waste_eur_per_kg": {"fr": "coût d'un kilo perdu (€/kg)"},
    "points_of_sale": {"fr": "points de vente"},
    "farms": {"fr": "fermes"},
    "products": {"fr": "produits"},
    "vehicles": {"fr": "véhicules"},
    "households": {"fr": "ménages"},
    "order_rows": {"fr": "lignes de commande"},
    "history_weeks": {"fr": "semaines d'historique"},
    "forecast_weeks": {"fr": "semaines prévues"},
    "season_kg": {"fr": "kilos de la saison"},
    "rejected_rows": {"fr": "lignes rejetées"},
    "flagged_rows": {"fr": "lignes signalées mais gardées"},
    "status": {"fr": "statut"},
    "objective": {"fr": "objectif (€)"},
    "gap_pct": {"fr": "écart à l'optimum (%)"},
    "week_start": {"fr": "début de semaine"},
    "method": {"fr": "méthode"},
    "engine": {"fr": "moteur"},
    "km": {"fr": "km"},
    "hours": {"fr": "heures"},
    "cost_eur": {"fr": "coût (€)"},
    "co2_kg": {"fr": "CO2 (kg)"},
    "vehicle_days": {"fr": "véhicules-jours"},
    "stops": {"fr": "arrêts"},
    "kg_moved": {"fr": "kilos transportés"},
    "mean_max_load_pct": {"fr": "charge max. moyenne (%)"},
    "unserved": {"fr": "arrêts non desservis"},
    "unserved_kg": {"fr": "kilos non desservis"},
    "runtime_s": {"fr": "temps de calcul (s)"},
    "day_status": {"fr": "fin de recherche par jour"},
    "estimated_sites": {"fr": "sites estimés à vol d'oiseau"},
    "day": {"fr": "jour"},
    "vehicle": {"fr": "véhicule"},
    "cost €": {"fr": "coût €"},
    "CO2 kg": {"fr": "CO2 kg"},
    "kg moved": {"fr": "kilos"},
    "max load %": {"fr": "charge max. %"},
    "kilos": {"fr": "kilos"},
    "ordered": {"fr": "commandé"},
    "delivered": {"fr": "livré"},
    "not delivered": {"fr": "non livré"},
    "unaccounted": {"fr": "non expliqué"},
    # vivres demand
    "Building weekly demand": {"fr": "Construction de la demande hebdomadaire"},
    "Weekly demand": {"fr": "Demande hebdomadaire"},
    "series (site × product)": {"fr": "séries (site × produit)"},
    "weeks": {"fr": "semaines"},
    "demand kg / week (mean)": {"fr": "demande kg / semaine (moyenne)"},
    "of which from caisse-only weeks": {"fr": "dont semaines de caisse seule (sans commande)"},
    "rejected rows": {"fr": "lignes rejetées"},
    "absurd lines flagged, kept": {"fr": "lignes aberrantes signalées, gardées"},
    "duplicate lines (dropped)": {"fr": "lignes en double (retirées)"},
    "caisse payments flagged": {"fr": "paiements de caisse signalés"},
    "Rejected rows by reason (first 10)": {"fr": "Lignes rejetées par raison (10 premières)"},
    "file": {"fr": "fichier"},
    "column": {"fr": "colonne"},
    "reason": {"fr": "raison"},
    "rows": {"fr": "lignes"},
    "month": {"fr": "mois"},
    "total": {"fr": "total"},
    "hh": {"fr": "foyers"},
    "contrib €": {"fr": "cotis. €"},
    "alloc €": {"fr": "alloc. €"},
    "spent €": {"fr": "dépensé €"},
    "unspent €": {"fr": "non dépensé €"},
    "cofin €": {"fr": "cofin. €"},
    "what-if cofin €": {"fr": "cofin. simulé €"},
    "extra €": {"fr": "en plus €"},
}


def say(key: str, lang: str = "fr", **values: object) -> str:
    """The message ``key`` in ``lang``, with ``values`` filled in."""
    texts = MESSAGES[key]
    return texts.get(lang, texts["en"]).format(**values)


def label(key: str, lang: str = "fr") -> str:
    """A summary figure's name for people (the key itself in English or when unknown)."""
    return LABELS.get(key, {}).get(lang, key) if lang != "en" else key


_WARNINGS_FR = (
    (
        re.compile(r"^no road network: distances are great-circle × (\S+) \((\w+)\); pass an OSM"),
        "pas de réseau routier : distances à vol d'oiseau × {0} ({1}) ; passez --osm FICHIER "
        "pour les distances par la route",
    ),
    (
        re.compile(
            r"^pin of (\S+): vehicle (\S+) has no cold room; the stop's chilled or frozen goods"
        ),
        "épinglage de {0} : le véhicule {1} n'est pas réfrigéré ; les produits frais ou "
        "surgelés de l'arrêt ne peuvent pas y monter et seront signalés non desservis",
    ),
    (
        re.compile(
            r"^pin of (\S+): ([\d,]+) kg for one visit, more than vehicle (\S+) carries "
            r"\(([\d,]+) kg\)"
        ),
        "épinglage de {0} : {1} kg en un passage, plus que ce que porte le véhicule {2} ({3} kg)",
    ),
    (
        re.compile(
            r"^(\d+) point\(s\) lie more than (\d+) m from a road \(points (.*), up to "
            r"(\d+) m\)"
        ),
        "{0} point(s) à plus de {1} m d'une route (points {2}, jusqu'à {3} m) : vérifiez leurs "
        "coordonnées ou prenez un extrait plus grand",
    ),
)


def warning_text(message: str, lang: str = "fr") -> str:
    """A routing warning for people: the known ones in French, others as they are."""
    if lang == "fr":
        return first_translation(_WARNINGS_FR, message) or message
    return message


#: click's usage errors (its English, whatever copy of click raised them) → French
_USAGE_FR = (
    (re.compile(r"^No such command '(.+?)'\.?$"), "commande inconnue « {0} »"),
    (re.compile(r"^No such option: (\S+?)\.?$"), "option inconnue : {0}"),
    (re.compile(r"^Option '(.+?)' requires an argument\.?$"), "l'option « {0} » attend une valeur"),
    (
        re.compile(r"^Option '(.+?)' does not take a value\.?$"),
        "l'option « {0} » ne prend pas de valeur",
    ),
    (re.compile(r"^Missing option '(.+?)'\.?$"), "option obligatoire absente : « {0} »"),
    (re.compile(r"^Missing argument '(.+?)'\.?$"), "argument obligatoire absent : « {0} »"),
    (re.compile(r"^Missing parameter: (.+?)\.?$"), "paramètre obligatoire absent : {0}"),
    (re.compile(r"^Got unexpected extra arguments? \((.+)\)\.?$"), "argument(s) en trop : {0}"),
    (re.compile(r"^Invalid value for '(.+?)': (.+)$"), "valeur invalide pour « {0} » : {1}"),
    (re.compile(r"^Invalid value: (.+)$"), "valeur invalide : {0}"),
)
_VALUE_FR = (
    (re.compile(r"^'(.*)' is not a valid float\.?$"), "« {0} » n'est pas un nombre"),
    (re.compile(r"^Input should be a valid number\b.*$"), "un nombre est attendu"),
    (re.compile(r"^Input should be a valid integer\b.*$"), "un nombre entier est attendu"),
    (re.compile(r"^'(.*)' is not a valid integer\.?$"), "« {0} » n'est pas un nombre entier"),
    (
        re.compile(r"^'(.*)' is not a valid boolean\.?$"),
        "« {0} » n'est ni vrai ni faux (true/false)",
    ),
    (re.compile(r"^'(.*)' is not one of (.+?)\.?$"), "« {0} » n'est pas l'une des valeurs {1}"),
    (
        re.compile(r"^'(.*)' does not match the formats? (.+?)\.?$"),
        "« {0} » ne suit pas le format {1}",
    ),
    (re.compile(r"^(\S+) is not in the range (.+?)\.?$"), "{0} n'est pas dans l'intervalle {1}"),
    (
        re.compile(r"^Directory '(.*)' does not exist\.?$"),
        "le dossier « {0} » n'existe pas",
    ),
    (re.compile(r"^File '(.*)' does not exist\.?$"), "le fichier « {0} » n'existe pas"),
    (re.compile(r"^Path '(.*)' does not exist\.?$"), "le chemin « {0} » n'existe pas"),
    (
        re.compile(r"^lang must be one of (.+); got (.+)$"),
        "la langue doit être l'une des valeurs {0} ; reçu {1}",
    ),
)
_DID_YOU_MEAN = re.compile(r"\s*(?:Did you mean|Possible options:|\(Possible options:)\s*(.*)$")


def usage_text(message: str, where: str, lang: str = "fr") -> str:
    """A usage error in one line: the message (French by default) and where the help is."""
    message = " ".join(str(message).split())
    if lang != "fr":
        return f"{message} (see {where} --help)"
    hint = ""
    found_hint = _DID_YOU_MEAN.search(message)
    if found_hint:
        message = message[: found_hint.start()].rstrip()
        hint = f" ; vouliez-vous dire {found_hint.group(1).rstrip('?.) ')} ?"
    text = message
    for pattern, template in _USAGE_FR:
        found = pattern.match(message)
        if found:
            parts = list(found.groups())
            if template.startswith("valeur invalide"):  # the value's own complaint too
                parts[-1] = _value_fr(parts[-1])
            text = template.format(*parts)
            break
    return f"{text}{hint} (voir {where} --help)"


def _value_fr(detail: str) -> str:
    return first_translation(_VALUE_FR, detail.strip()) or detail
