"""The "économies d'intégration" report: CSV (+ .xlsx twins) and one printable French page
for a funder (the comparison, the split, the assumptions)."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pandas as pd

from api.mutual import MutualStage
from core.csvio import write_user_csv

#: Rows of the pooled vs stand-alone table: (summary key, French label, decimals).
COMPARED = (
    ("km", "Kilomètres parcourus", 0),
    ("driver_h", "Heures de conduite", 1),
    ("vehicles", "Véhicules utilisés", 0),
    ("vehicle_days", "Véhicules-jours", 0),
    ("route_eur", "Coût des tournées (km + heures), €", 0),
    ("fixed_eur", "Coût fixe des véhicules-jours, €", 0),
    ("outsourced_kg", "Kilos non transportables (sous-traités)", 0),
    ("outsourced_eur", "Sous-traitance de ces kilos, €", 0),
    ("co2_kg", "CO₂ des tournées, kg", 0),
)


NOT_REPEATABLE = (
    "some coalition's routing stopped on the time limit: another run may give other figures "
    "(raise --time-limit, a safety cap, or set --solution-limit)"
)
NOT_REPEATABLE_FR = (
    "Attention : le calcul des tournées d'au moins une coalition a été arrêté par la limite de "
    "temps ; un autre calcul peut donner d'autres chiffres (relancer avec une limite plus "
    "grande)."
)


def fr(value: float, decimals: int = 0) -> str:
    """A number the French way: thin spaces between thousands, decimal comma."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


_PAGE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Économies d'intégration — {{ weeks }}</title>
<style>
@page { size: A4; margin: 14mm; }
body { font-family: sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 12pt 0 4pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 2pt 4pt; } td.n { text-align: right; }
th { background: #eee; } .verdict { font-weight: bold; } small { color: #444; }
</style></head><body>
<h1>Économies d'intégration : ce que la mutualisation économise</h1>
<p>Semaine(s) de livraison {{ weeks }} · {{ n_orgs }} organisations · {{ n_coal }} coalitions
calculées (tournées réelles de chaque coalition).</p>
{% if not assessable %}
<p class="verdict">La mutualisation ne peut pas être évaluée : {{ reason }}.</p>
<p>Déclarez les organisations membres dans <code>organisations.csv</code> et le propriétaire
de chaque point de vente et de chaque véhicule (colonne <code>organisation_id</code> de
<code>sites.csv</code> et <code>vehicles.csv</code>).</p>
{% else %}
<h2>Seules ou ensemble</h2>
<table><tr><th></th><th>Chacune seule (somme)</th><th>Mutualisé</th><th>Écart</th></tr>
{% for label, alone, pooled, gap in compared %}
<tr><td>{{ label }}</td><td class="n">{{ alone }}</td><td class="n">{{ pooled }}</td>
<td class="n">{{ gap }}</td></tr>{% endfor %}
<tr><th>Coût total, €</th><th class="n">{{ standalone }}</th><th class="n">{{ pooled }}</th>
<th class="n">− {{ saving }} ({{ saving_pct }} %)</th></tr>
</table>
<p>Sur la saison ({{ season_weeks }} semaines de livraison, estimation = moyenne
hebdomadaire × semaines) : {{ season_standalone }} € seules, {{ season_pooled }} €
mutualisé.</p>
<h2>Partage du coût mutualisé ({{ pooled }} €)</h2>
<table><tr><th>Organisation</th><th>Seule, €</th><th>Shapley, €</th><th>Économie</th>
<th>Au kg</th><th>Au point livré</th><th>Aux km faits pour elle</th>
<th>Profit égal (EPM)</th></tr>
{% for r in split %}<tr><td>{{ r.name }}</td><td class="n">{{ r.alone }}</td>
<td class="n">{{ r.shapley }}{% if r.ci %} ± {{ r.ci }}{% endif %}</td>
<td class="n">{{ r.saving }} ({{ r.saving_pct }} %)</td><td class="n">{{ r.kg }}</td>
<td class="n">{{ r.stop }}</td><td class="n">{{ r.km }}</td><td class="n">{{ r.epm }}</td></tr>
{% endfor %}
<tr><th>Total</th><th class="n">{{ standalone }}</th><th class="n">{{ shapley_sum }}</th>
<th></th><th class="n">{{ pooled }}</th><th class="n">{{ pooled }}</th>
<th class="n">{{ pooled }}</th><th class="n">{{ pooled }}</th></tr>
</table>
<p class="verdict">{{ verdict }}</p>
{% if not repeatable %}<p class="verdict">{{ not_repeatable }}</p>{% endif %}
<p><small>Shapley ({{ shapley_method }}) : chaque organisation paie en moyenne ce que son
arrivée ajoute au coût, sur tous les ordres d'arrivée possibles. Une part négative signifie
que les moyens qu'elle apporte (un véhicule) font économiser aux autres plus que ne coûtent
ses propres livraisons. L'EPM donne à chacune la même économie relative, dans le cœur quand
il existe.</small></p>
{% endif %}
<h2>Hypothèses</h2>
<ul>
<li>Les mêmes marchandises dans tous les cas : l'allocation de la semaine (partage équitable
de ce qui manque) est calculée une fois ; la mutualisation change les camions, pas les
quantités.</li>
<li>Chaque coalition livre ses points de vente et collecte sa part des achats aux fermes
(répartie selon sa part de chaque produit) avec ses propres véhicules, partis de leur dépôt ;
les marchandises passent par le pôle (Rezé) dans tous les cas.</li>
<li>Coûts : km et heures au tarif de chaque véhicule (vehicles.csv) ; {{ vehicle_day }} € par
véhicule-jour utilisé ; ce qu'une coalition ne peut pas transporter (pas de froid, pas de
place, pas de véhicule) est sous-traité à {{ outsourced }} € le kg (valeurs par défaut et
sources : data/README.md). Le CO₂ de la sous-traitance n'est pas compté.</li>
<li>Stockage : chaque organisation seule doit tenir ses propres marchandises de la semaine
(fichier split.csv, colonnes storage_*_kg) ; mutualisé, le pôle les tient.</li>
<li>Tournées calculées avec la même graine : mêmes données, même rapport.</li>
</ul>
</body></html>
"""
)


def write_mutual(stage: MutualStage, out_dir: Path) -> list[Path]:
    """Write ``coalitions.csv``, ``split.csv`` (+ .xlsx), ``mutualisation.json`` and
    ``rapport.html``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if stage.assessable:
        for name, frame in (("coalitions", stage.coalitions), ("split", _named(stage))):
            files += write_user_csv(frame, out / f"{name}.csv", digits=2)  # read by funders
    summary = {
        "assessable": stage.assessable,
        "reason": stage.reason,
        "weeks": list(stage.weeks),
        **stage.summary,
    }
    path = out / "mutualisation.json"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    files.append(path)
    path = out / "rapport.html"
    path.write_text(render(stage), encoding="utf-8")
    files.append(path)
    return files


def _named(stage: MutualStage) -> pd.DataFrame:
    names = stage.organisations.set_index("organisation_id")["name"]
    split = stage.split.copy()
    split.insert(1, "name", split["organisation_id"].map(names))
    return split


def verdict(summary: dict) -> str:
    """The core check in one French sentence."""
    if summary["in_core"]:
        return (
            "Le partage de Shapley est dans le cœur : aucune coalition ne paierait moins en "
            f"s'organisant seule (vérifié sur {_checked(summary)})."
        )
    worst = summary["blocking"][0]
    text = (
        f"Le partage de Shapley n'est pas dans le cœur : la coalition {worst['coalition']} "
        f"paierait {fr(worst['pays_more_than_alone_eur'], 2)} € de moins seule"
    )
    if summary["core_empty"]:
        return text + (
            f" ; le cœur est vide (aucun partage ne satisfait toutes les coalitions, écart "
            f"minimal {fr(summary['least_core_eps_eur'], 2)} €)."
        )
    return text + " ; un partage dans le cœur existe (voir la colonne EPM)."


def _checked(summary: dict) -> str:
    return (
        "toutes les coalitions"
        if summary["core_checked_on"] == "every coalition"
        else "les coalitions tirées"
    )


def render(stage: MutualStage) -> str:
    """The printable page (French)."""
    s = stage.summary
    context: dict = {
        "weeks": ", ".join(stage.weeks),
        "assessable": stage.assessable,
        "reason": stage.reason,
        "n_orgs": len(stage.organisations),
        "n_coal": s.get("coalitions", 0),
        "vehicle_day": fr(stage.params.vehicle_day_eur, 2),
        "outsourced": fr(stage.params.outsourced_eur_per_kg, 2),
    }
    if stage.assessable:
        parts = s["saving_parts"]
        context.update(
            compared=[
                (
                    label,
                    fr(parts[k]["standalone"], d),
                    fr(parts[k]["pooled"], d),
                    fr(parts[k]["pooled"] - parts[k]["standalone"], d),
                )
                for k, label, d in COMPARED
            ],
            standalone=fr(s["standalone_eur"], 2),
            pooled=fr(s["pooled_eur"], 2),
            saving=fr(s["saving_eur"], 2),
            saving_pct=fr(s["saving_pct"], 1),
            shapley_sum=fr(s["shapley_sum_eur"], 2),
            shapley_method=s["shapley_method"],
            season_weeks=s["season_weeks"],
            season_standalone=fr(s["season_standalone_eur"], 0),
            season_pooled=fr(s["season_pooled_eur"], 0),
            verdict=verdict(s),
            repeatable=s["repeatable"],
            not_repeatable=NOT_REPEATABLE_FR,
            split=[
                {
                    "name": r["name"],
                    "alone": fr(r["standalone_eur"], 2),
                    "shapley": fr(r["shapley_eur"], 2),
                    "ci": fr(r["shapley_half_width_eur"], 2) if r["shapley_half_width_eur"] else "",
                    "saving": fr(r["saving_eur"], 2),
                    "saving_pct": fr(r["saving_pct"], 1),
                    "kg": fr(r["per_kg_eur"], 2),
                    "stop": fr(r["per_stop_eur"], 2),
                    "km": fr(r["per_km_eur"], 2),
                    "epm": fr(r["epm_eur"], 2),
                }
                for r in _named(stage).to_dict("records")
            ],
        )
    return _PAGE.render(**context)
