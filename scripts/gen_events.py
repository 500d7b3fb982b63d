#!/usr/bin/env python3
"""Deterministic synthetic Kopa ledger: import lines for `kopa import`.

Usage:
    gen_events.py --seed 42 --count 1000000 > events.ndjson
    gen_events.py --seed 42 --count 20000 --check > /dev/null   # validate while generating
    gen_events.py --validate events.ndjson [--check-lines N]    # validate an existing file

Each output line is one import record:

    {"type":"meeting-held","occurred_at":"2019-12-05","data":{...},"meta":{"source":"synthetic"}}

The event catalog (events/*.json, JSON Schema) drives the payloads: field
names, required fields, enums, patterns, lengths, limits and references
(x-kopa-ref, x-kopa-stream, x-kopa-creates) are read from it at start-up, so
every payload is valid against its schema and every reference points at a
stream an earlier line created. Domain knowledge (what a meeting is called,
how much travel costs, that a council is formed before it is dissolved, that
a partner leaves a project it joined) lives in the generators below; fields
the generator does not know are filled from their schema alone.

Every domain event type of the catalog is generated (not ledger-created,
schema-registered, event-corrected, event-retracted), in proportions of a
real programme: many meetings and expenditures, few projects and
organisations. The first 32 lines register the base world (Ķekava, the
CITIES4CSR partners, six neighbourhoods, two projects), so a --count of a few
thousand or more is needed to see every type. occurred_at is a date (YYYY-MM-DD; 0.2% are month-precise,
YYYY-MM) that mostly increases over about twelve years; about 1% are
back-dated. The same --seed and --count always give the same bytes. Memory
stays flat: lines are streamed out, and only the entities that later lines
may refer to are remembered (the pending expenditures in a bounded window).

--check validates the first --check-lines (default 20000) lines of the run
with the `jsonschema` package and re-checks stream creation and references
from the catalog annotations alone, then prints statistics to stderr; exit 1
on any problem. Generation itself needs only the standard library.
"""

import argparse
import collections
import datetime
import json
import os
import random
import re
import sys

SYSTEM_TYPES = ("ledger-created", "schema-registered", "event-corrected", "event-retracted")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
OCCURRED_RE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")

# ---------------------------------------------------------------------------
# Catalog
# ---------------------------------------------------------------------------


def default_events_dir():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "events")


def load_catalog(events_dir):
    """{type: schema} for the newest version of every type, plus defs."""
    defs_path = os.path.join(events_dir, "defs.json")
    with open(defs_path, encoding="utf-8") as f:
        defs = json.load(f)
    schemas = {}
    versions = {}
    for name in sorted(os.listdir(events_dir)):
        m = re.match(r"^([a-z][a-z0-9-]*)\.v([0-9]+)\.json$", name)
        if not m:
            continue
        etype, version = m.group(1), int(m.group(2))
        if version < versions.get(etype, 0):
            continue
        with open(os.path.join(events_dir, name), encoding="utf-8") as f:
            schemas[etype] = json.load(f)
        versions[etype] = version
    if not schemas:
        raise SystemExit("gen_events.py: no event schemas in %s" % events_dir)
    return defs, schemas


def resolve(spec, defs):
    """A property spec with its $ref (into defs.json) merged in, local keys winning."""
    ref = spec.get("$ref")
    if not ref:
        out = dict(spec)
    else:
        m = re.match(r"^defs\.json#/\$defs/([A-Za-z0-9_-]+)$", ref)
        if not m or m.group(1) not in defs["$defs"]:
            raise SystemExit("gen_events.py: cannot resolve $ref %s" % ref)
        out = dict(defs["$defs"][m.group(1)])
        out["x-def"] = m.group(1)
        for k, v in spec.items():
            if k != "$ref":
                out[k] = v
    if out.get("type") == "array" and "items" in out:
        out["items"] = resolve(out["items"], defs)
    if out.get("type") == "object" and "properties" in out:
        out["properties"] = {k: resolve(v, defs) for k, v in out["properties"].items()}
    return out


class EventType:
    def __init__(self, name, schema, defs):
        self.name = name
        self.required = list(schema.get("required", []))
        self.props = {k: resolve(v, defs) for k, v in schema.get("properties", {}).items()}
        self.creates = bool(schema.get("x-kopa-creates"))
        tmpl = schema.get("x-kopa-stream", "")
        m = re.match(r"^([a-z][a-z0-9-]*)/\{([a-z_]+)\}$", tmpl)
        if m:
            self.kind, self.key = m.group(1), m.group(2)
        else:
            self.kind, self.key = tmpl or None, None

    def refs(self):
        """[(field, kind, is_array)] of the fields that point at streams."""
        out = []
        for field, spec in self.props.items():
            if spec.get("x-kopa-ref"):
                out.append((field, spec["x-kopa-ref"], False))
            elif spec.get("type") == "array" and spec.get("items", {}).get("x-kopa-ref"):
                out.append((field, spec["items"]["x-kopa-ref"], True))
        return out


# ---------------------------------------------------------------------------
# Vocabulary (Ķekava and its URBACT projects set the tone)
# ---------------------------------------------------------------------------

ORGS = [
    # slug, name, kind, country, city
    ("kekava", "Ķekavas novada pašvaldība", "municipality", "LV", "Ķekava"),
    ("milano", "Comune di Milano", "municipality", "IT", "Milano"),
    ("sofia", "Sofia Municipality", "municipality", "BG", "Sofia"),
    ("vratsa", "Vratsa Municipality", "municipality", "BG", "Vratsa"),
    ("rijeka", "Grad Rijeka", "municipality", "HR", "Rijeka"),
    ("molina-de-segura", "Ayuntamiento de Molina de Segura", "municipality", "ES", "Molina de Segura"),
    ("guimaraes", "Câmara Municipal de Guimarães", "municipality", "PT", "Guimarães"),
    ("budaors", "Budaörs Város Önkormányzata", "municipality", "HU", "Budaörs"),
    ("bratislava", "Hlavné mesto SR Bratislava", "municipality", "SK", "Bratislava"),
    ("nantes-metropole", "Nantes Métropole", "municipality", "FR", "Nantes"),
    ("urbact-secretariat", "URBACT Secretariat", "programme-authority", "FR", "Saint-Denis"),
    ("riga-planning-region", "Rīgas plānošanas reģions", "planning-region", "LV", "Rīga"),
    ("lps", "Latvijas Pašvaldību savienība", "association", "LV", "Rīga"),
    ("ilgtspejas-instituts", "Korporatīvās ilgtspējas un atbildības institūts", "ngo", "LV", "Rīga"),
    ("partneriba-daugavkrasts", "Partnerība Daugavkrasts", "association", "LV", "Ķekava"),
    ("kekavas-uznemeju-padome", "Ķekavas novada uzņēmēju padome", "association", "LV", "Ķekava"),
    ("maxima-latvija", "SIA Maxima Latvija", "company", "LV", "Rīga"),
    ("seb-banka", "AS SEB banka", "company", "LV", "Ķekava"),
    ("paa", "SIA PAA", "company", "LV", "Ķekava"),
    ("emj-metals", "SIA EMJ metāls", "company", "LV", "Ķekava"),
    ("lofbergs-baltic", "SIA Lofbergs Baltic", "company", "LV", "Ķekava"),
    ("putnu-fabrika-kekava", "AS Putnu fabrika Ķekava", "company", "LV", "Ķekava"),
    ("lu", "Latvijas Universitāte", "university", "LV", "Rīga"),
    ("vraap", "Vides risinājumu institūts", "ngo", "LV", "Rīga"),
]
ORG_WORDS = ["baltic", "green", "daugava", "kopiena", "ilgtspeja", "atbalsts", "mobilitate",
             "urban", "civic", "zala-josla", "tilts", "saule", "meza", "nova", "agora",
             "piekraste", "darbnica", "ideju-centrs", "solis", "vide"]
ORG_KIND_WORDS = {"company": ("SIA", ""), "ngo": ("Biedrība", ""), "association": ("Biedrība", ""),
                  "municipality": ("", "municipality"), "university": ("", "University"),
                  "public-body": ("Valsts aģentūra", ""), "network": ("", "Network"),
                  "planning-region": ("", "planning region"), "programme-authority": ("", "managing authority"),
                  "other": ("", "")}
COUNTRIES = ["LV"] * 12 + ["IT", "BG", "HR", "ES", "PT", "HU", "SK", "FR", "DE", "PL", "LT", "EE",
                           "FI", "SE", "NL", "BE", "GR", "RO", "SI", "CZ", "AT", "IE"]
CITIES = {"LV": ["Ķekava", "Baloži", "Rīga", "Jelgava", "Valmiera", "Cēsis", "Ogre", "Sigulda",
                 "Liepāja", "Ventspils", "Jūrmala", "Salaspils"]}

PROJECTS = [
    ("cities4csr", "Cities for Corporate Social Responsibility", "CITIES4CSR", "action-planning",
     "milano", "corporate social responsibility in cities"),
    ("agents-of-co-existence", "Agents of Co-existence", "AoC", "action-planning",
     "kekava", "residents' participation and co-existence in neighbourhoods"),
]
PROJECT_THEMES = [
    ("green-mobility", "Green Mobility", "sustainable urban mobility"),
    ("civic-lab", "Civic Lab", "citizen participation in local decisions"),
    ("food-corridors", "Food Corridors", "local food systems"),
    ("play-streets", "Play Streets", "child-friendly public space"),
    ("thriving-streets", "Thriving Streets", "walkable town centres"),
    ("health-and-greenery", "Health and Greenery", "urban health and green infrastructure"),
    ("re-gen", "RE-GEN", "youth engagement"),
    ("sustainable-tourism", "Sustainable Tourism", "tourism in small towns"),
    ("in-focus", "In Focus", "smart specialisation"),
    ("com-unity-lab", "COM.UNITY.LAB", "community-led local development"),
    ("urban-regeneration", "Urban Regeneration Mix", "regeneration of housing estates"),
    ("resourceful-cities", "Resourceful Cities", "circular economy"),
]
PROGRAMMES = ["URBACT III", "URBACT III", "URBACT IV", "Interreg Central Baltic", "Interreg Europe",
              "Erasmus+", "LIFE"]

NEIGHBOURHOODS = [
    ("kekava-centrs", "Ķekavas centrs"), ("ramava", "Rāmava"), ("balozi", "Baloži"),
    ("katlakalns", "Katlakalns"), ("valdlauci", "Valdlauči"), ("dauguli", "Daugulīši"),
    ("plakanciems", "Plakanciems"), ("daugmale", "Daugmale"), ("krogsils", "Krogsils"),
    ("odukalns", "Odukalns"), ("pluskalni", "Plūskalni"), ("ziemeli", "Ziemeļi"),
    ("rincuti", "Rincuļi"), ("misa", "Misa"), ("bergi", "Bērgi"), ("dzerumi", "Dzērumi"),
    ("jaunsaules", "Jaunsaules"), ("lapenieki", "Lāpenieki"), ("vimbukrogs", "Vimbukrogs"),
    ("pulkarne", "Pulkarne"),
]

MEETING_KINDS = {  # kind: (weight, titles)
    "local-group-meeting": (30, ["Vietējās rīcības grupas tikšanās", "URBACT Local Group meeting",
                                 "ULG sanāksme par rīcības plānu", "Local group working session"]),
    "partner-meeting": (10, ["Transnational partner meeting", "Projekta partneru sanāksme",
                             "Steering group meeting", "Online partner call"]),
    "workshop": (20, ["Darbseminārs par korporatīvo sociālo atbildību", "Co-design workshop",
                      "Darbnīca par zaļo mobilitāti", "Idea lab with residents"]),
    "study-visit": (6, ["Study visit", "Mācību vizīte", "Site visit to partner city"]),
    "dissemination-event": (8, ["URBACT sarunu telts novada svētkos", "Results dissemination event",
                                "Final conference", "Public presentation of the action plan"]),
    "training": (8, ["Training for municipal staff", "Apmācības iedzīvotājiem",
                     "URBACT Summer University session", "Capacity-building training"]),
    "forum": (6, ["Iedzīvotāju forums", "Neighbourhood forum", "Budget think tank (budžeta domnīca)"]),
    "council-meeting": (12, ["Apkaimes padomes sēde", "Residents' council meeting",
                             "Council meeting on local priorities"]),
}
MEETING_DESCRIPTIONS = [
    "Darbs trīs darba grupās: vajadzības, risinājumi un uzticība.",
    "Discussed the draft integrated action plan and next steps with local stakeholders.",
    "Residents presented proposals for greener streets and safer routes to school.",
    "Partners exchanged practices on CSR and public procurement with social criteria.",
    "Sarunas par iedzīvotāju iesaisti, piederības sajūtu un mobilitātes risinājumiem.",
    "Review of the small-scale actions tested in the neighbourhood.",
    "Presentation of the baseline study and agreement on the work plan.",
]
PLACES = ["Jaunu ideju centrs, Ķekava", "Ķekavas kultūras nams", "Baložu pilsētas bibliotēka",
          "Milano, Palazzo Marino", "Online", "Rijeka City Hall", "Bruxelles", "Daugmales pamatskola",
          "Ķekavas novada pašvaldība, Gaismas iela 19", "Sofia Tech Park", "Nantes, Île de Nantes"]

EXPENDITURE_TEXTS = {
    "staff": ["Project coordinator salary, %s", "Darba samaksa projekta vadītājam, %s",
              "Staff costs, communication officer, %s"],
    "office-administration": ["Office and administration flat rate, %s", "Biroja izdevumi, %s"],
    "travel-accommodation": ["Travel to partner meeting, flights and hotel, %s",
                             "Komandējums uz partneru sanāksmi, %s", "Study visit travel costs, %s"],
    "external-expertise": ["Ad hoc expert, facilitation of local group, %s",
                           "Video about project results, %s", "Translation and printing, %s",
                           "Catering for the local group meeting, %s", "Ārpakalpojums: pētījums, %s"],
    "equipment": ["Mobile furniture for pop-up events, %s", "Aprīkojums pasākumiem, %s"],
    "other": ["Bank charges, %s", "Other costs, %s"],
}
COST_WEIGHTS = {"staff": 25, "office-administration": 8, "travel-accommodation": 25,
                "external-expertise": 30, "equipment": 7, "other": 5}
CONTROLLERS = ["Valsts reģionālās attīstības aģentūra", "VARAM pirmā līmeņa kontrole",
               "First level control body", "Regional Development Agency (FLC)"]
DELIVERABLE_TITLES = {
    "report": ["Baseline study", "Bāzes pētījums", "Final network report", "Progress report"],
    "case-study": ["Case study: CSR in public procurement", "Good practice: budget think tank",
                   "Case study: residents' councils"],
    "video": ["Video about the project results", "Video: URBACT talk tent", "Short film on co-existence"],
    "toolkit": ["Toolkit for local stakeholder engagement", "Rokasgrāmata iedzīvotāju iesaistei"],
    "publication": ["Integrated action plan summary", "Newsletter", "Policy brief"],
    "web-page": ["Project page on the municipality website", "Partner city profile"],
    "other": ["Exhibition panels", "Infographic"],
}
PLAN_KINDS = {"integrated-action-plan": 55, "action-plan": 25, "strategy": 12, "other": 8}
PLAN_TITLES = {"integrated-action-plan": "Integrated action plan", "action-plan": "Rīcības plāns",
               "strategy": "Attīstības stratēģija", "other": "Plan"}
POSITION_TITLES = ["Project coordinator", "Projekta vadītājs", "Communication officer",
                   "ULG coordinator", "Financial manager", "Neighbourhood facilitator"]
NOTES = [
    "Pēc pašvaldības domes lēmuma.", "As reported on the municipality website.",
    "Confirmed by the lead partner.", "Amount according to the subsidy contract.",
    "Skatīt pievienoto protokolu.", "Under the second phase of the network.",
]
PAYERS = ["URBACT managing authority", "Valsts kase", "Ķekavas novada pašvaldība", "Lead partner (Comune di Milano)"]

# Relative weights of the event types (per thousand lines, once the world has started)
WEIGHTS = {
    "meeting-held": 300,
    "expenditure-recorded": 250,
    "expenditure-verified": 200,
    "payment-received": 40,
    "deliverable-published": 40,
    "funding-committed": 25,
    "partner-joined": 30,
    "organisation-registered": 20,
    "budget-approved": 20,
    "local-action-group-member-joined": 20,
    "project-phase-defined": 15,
    "position-created": 15,
    "plan-drafted": 8,
    "plan-approved": 6,
    "partner-left": 5,
    "local-action-group-formed": 5,
    "neighbourhood-registered": 5,
    "council-formed": 4,
    "project-registered": 3,
    "council-dissolved": 1,
}
DEFAULT_WEIGHT = 5  # for types the catalog gains later

START = datetime.date(2014, 1, 1)
SPAN_DAYS = 12 * 365
EXPENDITURE_WINDOW = 4096  # recorded, not yet verified expenditures remembered
REMEMBER_MAX = 50000  # slugs remembered per kind of stream (the most recent)
EXPENDITURE_MAX_WAIT = 180  # days; older unverified expenditures are never verified


class Impossible(Exception):
    """The chosen type cannot be generated now (nothing to refer to)."""


# ---------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------


class Generator:
    def __init__(self, types, seed, count):
        self.types = types
        self.rnd = random.Random(seed)
        self.count = max(count, 1)
        self.n = 0
        self.day = START
        # the world as later lines may refer to it
        self.streams = {}  # kind -> list of slugs, creation order
        self.org_info = {}  # slug -> kind
        self.partners = {}  # project -> list of organisations
        self.phases = {}  # project -> number of phases
        self.deliverables = {}  # project -> number of deliverables
        self.members = {}  # group -> list of organisations
        self.group_project = {}  # group -> project
        self.councils = {}  # neighbourhood -> True when a council is active
        self.unapproved_plans = []
        self.pending_expenditures = collections.deque()
        self.counters = collections.Counter()
        self.followups = collections.deque()
        # kinds of stream a later line may name: the others need no memory
        self.remembered = set()
        for t in types.values():
            if t.name in SYSTEM_TYPES:
                continue
            self.remembered.update(kind for _, kind, _ in t.refs())
            if not t.creates and t.kind:
                self.remembered.add(t.kind)
        self.supported = {}
        for name, t in types.items():
            if name in SYSTEM_TYPES:
                continue
            self.supported[name] = getattr(self, "gen_" + name.replace("-", "_"), None)
        names = sorted(self.supported)
        self.choice_names = names
        self.choice_cum = []
        total = 0
        for name in names:
            total += WEIGHTS.get(name, DEFAULT_WEIGHT)
            self.choice_cum.append(total)
        self.choice_total = total

    # ----- helpers ---------------------------------------------------------

    def pick(self, seq, recent=24, bias=0.8):
        """An element of seq, mostly one of the most recent."""
        if not seq:
            raise Impossible
        if len(seq) > recent and self.rnd.random() < bias:
            return seq[len(seq) - 1 - self.rnd.randrange(recent)]
        return seq[self.rnd.randrange(len(seq))]

    def existing(self, kind):
        return self.streams.get(kind, [])

    def new_slug(self, kind, base):
        """A slug for a new stream of kind, unique, made from base."""
        base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:48].strip("-") or kind
        taken = self.counters[("slug", kind, base)]
        self.counters[("slug", kind, base)] += 1
        return base if taken == 0 else "%s-%d" % (base, taken + 1)

    def limit(self, etype, field, value):
        """Trim a string to the field's maxLength."""
        spec = self.types[etype].props.get(field, {})
        ml = spec.get("maxLength")
        if ml and isinstance(value, str) and len(value) > ml:
            value = value[:ml].rstrip()
        return value

    def money(self, low, high):
        """A money object with an amount roughly log-uniform in [low, high]."""
        r = self.rnd
        whole = int(low * (high / low) ** r.random())
        cents = 0 if r.random() < 0.3 else r.randrange(100)
        return {"amount": "%d.%02d" % (whole, cents), "currency": "EUR"}

    def date_str(self, d):
        return d.isoformat()

    def month_str(self, d):
        return d.isoformat()[:7]

    def weighted(self, table):
        r = self.rnd.random() * sum(table.values())
        for k, w in table.items():
            r -= w
            if r < 0:
                return k
        return k

    def opt(self, p):
        return self.rnd.random() < p

    def note(self, p=0.15):
        return self.rnd.choice(NOTES) if self.opt(p) else None

    # ----- the world's first lines ----------------------------------------

    def bootstrap(self):
        """Lines every synthetic ledger starts with: Ķekava, partners, projects."""
        for slug, name, kind, country, city in ORGS:
            yield "organisation-registered", {"organisation": self.new_slug("organisation", slug), "name": name,
                                              "kind": kind, "country": country, "city": city}
        for slug, name in NEIGHBOURHOODS[:6]:
            yield "neighbourhood-registered", {"neighbourhood": self.new_slug("neighbourhood", slug), "name": name,
                                               "municipality": "kekava"}
        for slug, title, acronym, ntype, lead, theme in PROJECTS:
            yield "project-registered", {"project": self.new_slug("project", slug), "title": title, "acronym": acronym,
                                         "programme": "URBACT III", "network_type": ntype,
                                         "lead_partner": lead, "starts_on": self.month_str(self.day),
                                         "theme": theme}

    # ----- one generator per domain type ------------------------------------
    # Each returns data (a dict); world updates happen in apply().

    def gen_organisation_registered(self):
        r = self.rnd
        kind = self.weighted({"company": 45, "ngo": 20, "association": 10, "municipality": 12,
                              "public-body": 4, "university": 4, "network": 2, "planning-region": 1,
                              "programme-authority": 1, "other": 1})
        word = r.choice(ORG_WORDS)
        country = "LV" if kind in ("company", "ngo", "association") and r.random() < 0.8 else r.choice(COUNTRIES)
        city = r.choice(CITIES.get(country, ["Centre"])) if country == "LV" else None
        slug = self.new_slug("organisation", word if kind not in ("company",) else "sia-" + word)
        pre, post = ORG_KIND_WORDS.get(kind, ("", ""))
        label = slug.replace("sia-", "").replace("-", " ").title()
        name = " ".join(x for x in (pre, label, post) if x)
        data = {"organisation": slug, "name": name, "kind": kind, "country": country}
        if city:
            data["city"] = city
        if self.opt(0.1):
            data["note"] = r.choice(NOTES)
        return data

    def gen_neighbourhood_registered(self):
        r = self.rnd
        base_slug, base_name = r.choice(NEIGHBOURHOODS)
        slug = self.new_slug("neighbourhood", base_slug)
        suffix = slug[len(base_slug):].replace("-", " ").strip()
        data = {"neighbourhood": slug}
        if self.opt(0.9):
            data["name"] = base_name + (" " + suffix if suffix else "")
        munis = [o for o in self.existing("organisation")[:60] if self.org_info.get(o) == "municipality"]
        data["municipality"] = "kekava" if (self.opt(0.8) or not munis) and "kekava" in self.org_info else r.choice(munis)
        if self.opt(0.1):
            data["note"] = "Apkaime ar aktīvu iedzīvotāju kopienu."
        return data

    def gen_project_registered(self):
        r = self.rnd
        base, title, theme = r.choice(PROJECT_THEMES)
        slug = self.new_slug("project", base)
        n = self.counters[("slug", "project", base)]
        orgs = self.existing("organisation")
        data = {"project": slug, "title": title + (" %d" % n if n > 1 else ""),
                "acronym": (title.upper().replace(" ", "")[:16] + ("%d" % n if n > 1 else "")),
                "programme": r.choice(PROGRAMMES),
                "network_type": self.weighted({"action-planning": 60, "implementation": 15, "transfer": 10,
                                               "innovation-transfer": 5, "other": 10})}
        lead = self.pick(orgs, recent=200, bias=0.5) if orgs else None
        if lead:
            data["lead_partner"] = lead
        start = self.day + datetime.timedelta(days=r.randrange(0, 120))
        data["starts_on"] = self.date_str(start) if self.opt(0.5) else self.month_str(start)
        if self.opt(0.8):
            end = start + datetime.timedelta(days=r.choice((730, 913, 1095)))
            data["ends_on"] = self.date_str(end) if "-" in data["starts_on"][5:] else self.month_str(end)
        if self.opt(0.7):
            data["theme"] = theme
        if self.opt(0.3):
            data["description"] = "Network of cities working on %s." % theme
        return data

    def _project(self):
        return self.pick(self.existing("project"), recent=12, bias=0.85)

    def _org(self, recent=300, bias=0.3):
        return self.pick(self.existing("organisation"), recent=recent, bias=bias)

    def gen_partner_joined(self):
        project = self._project()
        have = self.partners.get(project, ())
        for _ in range(8):
            org = self._org()
            if org not in have:
                break
        else:
            raise Impossible
        role = "lead" if not have and self.opt(0.5) else self.weighted({"partner": 85, "associate": 15})
        data = {"project": project, "organisation": org, "role": role}
        if self.opt(0.1):
            data["note"] = self.rnd.choice(NOTES)
        return data

    def gen_partner_left(self):
        candidates = [p for p in self.existing("project")[-40:] if len(self.partners.get(p, ())) > 2]
        if not candidates:
            raise Impossible
        project = self.rnd.choice(candidates)
        org = self.rnd.choice(self.partners[project][1:])
        data = {"project": project, "organisation": org}
        if self.opt(0.6):
            data["reason"] = self.rnd.choice(["Reorganisation of the partner's administration.",
                                              "Partneris izstājās no projekta finanšu dēļ.",
                                              "Replaced by another city after the first phase."])
        return data

    def gen_project_phase_defined(self):
        project = self._project()
        k = self.phases.get(project, 0) + 1
        start = self.day + datetime.timedelta(days=self.rnd.randrange(0, 60))
        data = {"project": project, "phase": "phase-%d" % k}
        if self.opt(0.9):
            data["title"] = ["Activation phase", "Planning actions", "Testing small-scale actions",
                             "Finalisation and dissemination"][min(k, 4) - 1] + ("" if k <= 4 else " %d" % k)
        if self.opt(0.85):
            data["starts_on"] = self.date_str(start)
            if self.opt(0.9):
                data["ends_on"] = self.date_str(start + datetime.timedelta(days=self.rnd.choice((180, 270, 365, 540))))
        return data

    def gen_budget_approved(self):
        project = self._project()
        data = {"project": project}
        partners = self.partners.get(project, [])
        if partners and self.opt(0.6):
            data["organisation"] = self.rnd.choice(partners)
            data["amount"] = self.money(20000, 300000)
        else:
            data["amount"] = self.money(300000, 3000000)
        if self.opt(0.2):
            data["note"] = self.rnd.choice(NOTES)
        return data

    def gen_funding_committed(self):
        r = self.rnd
        project = self._project()
        source = self.weighted({"erdf": 55, "municipality": 25, "state": 15, "other": 5})
        data = {"project": project, "funding_source": source, "amount": self.money(5000, 250000)}
        if self.opt(0.6):
            data["rate"] = {"erdf": r.choice(["85", "80", "70", "85.00"]), "municipality": r.choice(["15", "20", "30"]),
                            "state": r.choice(["5", "10", "7.5"]), "other": r.choice(["100", "50"])}[source]
        partners = self.partners.get(project, [])
        if partners and self.opt(0.7):
            data["organisation"] = r.choice(partners)
        if self.opt(0.15):
            data["note"] = r.choice(NOTES)
        return data

    def gen_payment_received(self):
        r = self.rnd
        project = self._project()
        data = {"project": project,
                "funding_source": self.weighted({"erdf": 70, "state": 15, "municipality": 10, "other": 5}),
                "amount": self.money(1000, 120000)}
        if self.opt(0.7):
            data["payer"] = r.choice(PAYERS)
        if self.opt(0.7):
            data["reference"] = "MP-%d/%04d" % (self.day.year, r.randrange(1, 10000))
        if self.opt(0.35):
            data["note"] = r.choice(NOTES)
        return data

    def gen_meeting_held(self):
        r = self.rnd
        kind = self.weighted({k: v[0] for k, v in MEETING_KINDS.items()})
        data = {}
        context = None
        if kind == "council-meeting" or (kind == "forum" and self.opt(0.6)):
            active = [n for n in self.existing("neighbourhood")[-80:] if self.councils.get(n)]
            if active:
                context = ("neighbourhood", r.choice(active))
            elif self.existing("neighbourhood"):
                context = ("neighbourhood", self.pick(self.existing("neighbourhood")))
                kind = "forum"
        if context is None and kind == "local-group-meeting" and self.existing("group") and self.opt(0.7):
            context = ("group", self.pick(self.existing("group"), recent=10))
        if context is None:
            context = ("project", self._project())
        prefix = context[1][:40].rstrip("-")
        self.counters["meeting"] += 1
        slug = "%s-%s-%d" % (prefix, {"local-group-meeting": "ulg", "partner-meeting": "tpm",
                                      "workshop": "ws", "study-visit": "visit",
                                      "dissemination-event": "event", "training": "training",
                                      "forum": "forum", "council-meeting": "council"}.get(kind, "m"),
                             self.counters["meeting"])
        data["meeting"] = slug
        data["kind"] = kind
        data["title"] = r.choice(MEETING_KINDS.get(kind, (0, ["Meeting"]))[1])
        data[context[0]] = context[1]
        if context[0] == "group" and self.group_project.get(context[1]) and self.opt(0.5):
            data["project"] = self.group_project[context[1]]
        if self.opt(0.5):
            data["host"] = "kekava" if self.opt(0.6) and "kekava" in self.org_info else self._org()
        online = self.opt(0.25)
        if not online and self.opt(0.6):
            data["place"] = r.choice(PLACES)
        if self.opt(0.5):
            data["online"] = online
        if self.opt(0.8):
            data["participants"] = r.randrange(4, 25) if kind != "dissemination-event" else r.randrange(30, 400)
        if self.opt(0.4):
            data["organisations"] = sorted({self._org() for _ in range(r.randrange(1, 5))})
        if kind in ("workshop", "study-visit", "training") and self.opt(0.5):
            data["days"] = r.choice((1, 1, 2, 2, 3))
        if self.opt(0.45):
            data["description"] = r.choice(MEETING_DESCRIPTIONS)
        return data

    def gen_expenditure_recorded(self):
        r = self.rnd
        project = self._project()
        cat = self.weighted(COST_WEIGHTS)
        self.counters["expenditure"] += 1
        n = self.counters["expenditure"]
        data = {"expenditure": "exp-%d-%06d" % (self.day.year, n), "project": project}
        low, high = {"staff": (800, 6000), "office-administration": (50, 2500),
                     "travel-accommodation": (120, 3500), "external-expertise": (300, 25000),
                     "equipment": (100, 15000), "other": (5, 500)}.get(cat, (10, 5000))
        data["amount"] = self.money(low, high)
        data["cost_category"] = cat
        if self.opt(0.8):
            data["invoice_reference"] = r.choice(("INV", "Rēķ. Nr.", "PVN", "KEK")) + " %d/%05d" % (self.day.year, r.randrange(1, 100000))
        partners = self.partners.get(project, [])
        if self.opt(0.6):
            data["organisation"] = r.choice(partners) if partners and self.opt(0.8) else "kekava" if "kekava" in self.org_info else self._org()
        if self.opt(0.9):
            data["description"] = r.choice(EXPENDITURE_TEXTS.get(cat, ["%s"])) % self.day.strftime("%m/%Y")
        return data

    def gen_expenditure_verified(self):
        r = self.rnd
        if not self.pending_expenditures:
            raise Impossible
        queue = self.pending_expenditures
        while len(queue) > 1 and (self.day - queue[0][2]).days > EXPENDITURE_MAX_WAIT:
            queue.popleft()  # never verified: that happens too
        slug, amount, _ = queue.popleft()
        if r.random() < 0.12:
            whole, cents = amount["amount"].partition(".")[::2]
            cut = int(whole) * 100 + int(cents or 0)
            cut = cut * r.choice((50, 75, 90, 95)) // 100
            amount = {"amount": "%d.%02d" % (cut // 100, cut % 100), "currency": amount["currency"]}
        data = {"expenditure": slug, "amount": amount, "controller": r.choice(CONTROLLERS)}
        if self.opt(0.7):
            data["report_reference"] = "FLC-%d-%04d" % (self.day.year, r.randrange(1, 10000))
        if self.opt(0.35):
            data["note"] = r.choice(["Partly ineligible: missing procurement documentation.",
                                     "Apstiprināts pilnā apmērā.", "Checked against the invoice and bank statement."])
        return data

    def gen_deliverable_published(self):
        r = self.rnd
        project = self._project()
        k = self.deliverables.get(project, 0) + 1
        kind = self.weighted({"report": 30, "case-study": 15, "video": 15, "toolkit": 8,
                              "publication": 15, "web-page": 12, "other": 5})
        data = {"project": project, "deliverable": "%s-%d" % (kind, k),
                "title": r.choice(DELIVERABLE_TITLES.get(kind, ["Deliverable"])), "kind": kind}
        if self.opt(0.6):
            data["url"] = "https://www.kekava.lv/urbact/%s/%s-%d" % (project, kind, k)
        if self.opt(0.5):
            data["description"] = "Published at the end of %s." % self.day.strftime("%B %Y")
        return data

    def gen_local_action_group_formed(self):
        r = self.rnd
        project = self._project()
        slug = self.new_slug("group", project[:40] + "-ulg")
        data = {"group": slug, "name": "Vietējā rīcības grupa (%s)" % project, "project": project}
        if self.opt(0.6):
            data["members"] = sorted({self._org() for _ in range(r.randrange(2, 7))})
        if self.opt(0.3):
            data["description"] = "Municipality, businesses and NGOs working together on the action plan."
        return data

    def gen_local_action_group_member_joined(self):
        group = self.pick(self.existing("group"), recent=10)
        have = self.members.get(group, ())
        for _ in range(8):
            org = self._org()
            if org not in have:
                break
        else:
            raise Impossible
        data = {"group": group, "organisation": org}
        if self.opt(0.1):
            data["note"] = self.rnd.choice(NOTES)
        return data

    def gen_council_formed(self):
        free = [n for n in self.existing("neighbourhood") if not self.councils.get(n)]
        if not free:
            raise Impossible
        nb = free[0] if self.opt(0.5) else self.rnd.choice(free)
        data = {"neighbourhood": nb}
        if self.opt(0.8):
            data["name"] = "Apkaimes padome: %s" % nb.replace("-", " ").title()
        if self.opt(0.7):
            data["members_count"] = self.rnd.randrange(5, 16)
        if self.opt(0.1):
            data["note"] = self.rnd.choice(NOTES)
        return data

    def gen_council_dissolved(self):
        active = [n for n in self.existing("neighbourhood") if self.councils.get(n)]
        if not active:
            raise Impossible
        data = {"neighbourhood": self.rnd.choice(active)}
        if self.opt(0.5):
            data["reason"] = self.rnd.choice(["Members resigned.", "Apvienota ar kaimiņu apkaimes padomi."])
        return data

    def gen_plan_drafted(self):
        r = self.rnd
        kind = self.weighted(PLAN_KINDS)
        project = self._project() if self.opt(0.85) else None
        slug = self.new_slug("plan", (project[:40] + "-" if project else "kekava-") + {"integrated-action-plan": "iap"}.get(kind, kind))
        data = {"plan": slug, "title": PLAN_TITLES.get(kind, "Plan") + (" (%s)" % project if project else ""),
                "kind": kind}
        if project:
            data["project"] = project
        if self.opt(0.7):
            data["organisation"] = "kekava" if self.opt(0.7) and "kekava" in self.org_info else self._org()
        if self.opt(0.3):
            data["description"] = "Drafted with the local group; actions on mobility, greenery and participation."
        return data

    def gen_plan_approved(self):
        if not self.unapproved_plans:
            raise Impossible
        plan = self.unapproved_plans.pop(0)
        data = {"plan": plan, "approved_by": self.rnd.choice(["Ķekavas novada dome", "Ķekava municipal council",
                                                              "Project steering committee"])}
        if self.opt(0.7) and "kekava" in self.org_info:
            data["organisation"] = "kekava"
        if self.opt(0.7):
            data["decision_reference"] = "Lēmums Nr. %d, prot. Nr. %d" % (self.rnd.randrange(1, 40), self.rnd.randrange(1, 30))
        return data

    def gen_position_created(self):
        r = self.rnd
        org = "kekava" if self.opt(0.5) and "kekava" in self.org_info else self._org()
        title = r.choice(POSITION_TITLES)
        slug = self.new_slug("position", org[:30] + "-" + title.lower()[:20])
        data = {"position": slug, "organisation": org, "title": title}
        if self.opt(0.7):
            data["project"] = self._project()
        if self.opt(0.6):
            data["holder"] = "person-%05d" % r.randrange(1, 100000)
        if self.opt(0.1):
            data["note"] = r.choice(NOTES)
        return data

    # ----- a type the generator has no code for: its schema alone ----------

    def gen_generic(self, etype):
        t = self.types[etype]
        r = self.rnd
        data = {}
        for field, spec in t.props.items():
            required = field in t.required
            if not required and not self.opt(0.4):
                continue
            if field == t.key:
                if t.creates:
                    self.counters[t.kind] += 1
                    data[field] = "%s-%d" % (t.kind, self.counters[t.kind])
                else:
                    data[field] = self.pick(self.existing(t.kind))
                continue
            try:
                data[field] = self.value_for(spec)
            except Impossible:
                if required:
                    raise
        return data

    def value_for(self, spec):
        r = self.rnd
        typ = spec.get("type")
        if spec.get("x-kopa-ref"):
            return self.pick(self.existing(spec["x-kopa-ref"]))
        if "enum" in spec:
            return r.choice(spec["enum"])
        if typ == "object" and spec.get("x-def") == "money":
            return self.money(10, 10000)
        if typ == "object":
            return {k: self.value_for(v) for k, v in spec.get("properties", {}).items()
                    if k in spec.get("required", [])}
        if typ == "array":
            items = spec.get("items", {})
            return [self.value_for(items) for _ in range(r.randrange(1, 3))]
        if typ == "integer":
            lo = spec.get("minimum", 0)
            hi = min(spec.get("maximum", lo + 100), lo + 100)
            return r.randint(lo, hi)
        if typ == "boolean":
            return r.random() < 0.5
        if typ == "string":
            d = spec.get("x-def")
            if d == "percentage":
                return r.choice(["85", "15", "100"])
            if d == "partial-date" or spec.get("format") == "date":
                return self.date_str(self.day)
            if d == "country":
                return r.choice(COUNTRIES)
            if d == "url" or spec.get("format") == "uri":
                return "https://www.kekava.lv/urbact/%d" % r.randrange(100000)
            if d in ("slug", "org-ref") or spec.get("pattern") == SLUG_RE.pattern:
                return "x-%d" % r.randrange(100000)
            if d == "event-type":
                return "meeting-held"
            if "pattern" in spec:
                raise Impossible  # cannot invent values for an unknown pattern
            text = r.choice(NOTES)
            ml = spec.get("maxLength", len(text))
            text = text[:ml] or "x"
            return text + "x" * max(0, spec.get("minLength", 0) - len(text))
        raise Impossible

    # ----- bookkeeping -------------------------------------------------------

    def apply(self, etype, data):
        """Update the world after a line of etype with data is emitted."""
        t = self.types[etype]
        if t.creates and t.kind in self.remembered and t.key in data:
            seen = self.streams.setdefault(t.kind, [])
            seen.append(data[t.key])
            if len(seen) > REMEMBER_MAX:
                del seen[:REMEMBER_MAX // 2]  # refer to the more recent ones only
        if etype == "organisation-registered":
            self.org_info[data["organisation"]] = data.get("kind")
        elif etype == "project-registered":
            p = data["project"]
            self.partners[p] = []
            self.phases[p] = 0
            self.deliverables[p] = 0
            lead = data.get("lead_partner")
            if lead:
                self.followups.append(("partner-joined", {"project": p, "organisation": lead, "role": "lead"}))
            self.followups.append(("funding-committed", None))
            self.followups.append(("budget-approved", None))
        elif etype == "partner-joined":
            self.partners.setdefault(data["project"], []).append(data["organisation"])
        elif etype == "partner-left":
            self.partners[data["project"]].remove(data["organisation"])
        elif etype == "project-phase-defined":
            self.phases[data["project"]] = self.phases.get(data["project"], 0) + 1
        elif etype == "deliverable-published":
            self.deliverables[data["project"]] = self.deliverables.get(data["project"], 0) + 1
        elif etype == "local-action-group-formed":
            self.members[data["group"]] = list(data.get("members", []))
            if data.get("project"):
                self.group_project[data["group"]] = data["project"]
        elif etype == "local-action-group-member-joined":
            m = self.members.setdefault(data["group"], [])
            if len(m) < 60:
                m.append(data["organisation"])
        elif etype == "council-formed":
            self.councils[data["neighbourhood"]] = True
        elif etype == "council-dissolved":
            self.councils[data["neighbourhood"]] = False
        elif etype == "plan-drafted":
            self.unapproved_plans.append(data["plan"])
        elif etype == "expenditure-recorded":
            self.pending_expenditures.append((data["expenditure"], data["amount"], self.day))
            if len(self.pending_expenditures) > EXPENDITURE_WINDOW:
                self.pending_expenditures.popleft()  # never verified: that happens too

    def choose_type(self):
        x = self.rnd.random() * self.choice_total
        cum = self.choice_cum
        lo, hi = 0, len(cum) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] > x:
                hi = mid
            else:
                lo = mid + 1
        return self.choice_names[lo]

    def make(self, etype):
        fn = self.supported.get(etype)
        data = fn() if fn else self.gen_generic(etype)
        # keep every string within its declared maxLength
        for k, v in data.items():
            if isinstance(v, str):
                data[k] = self.limit(etype, k, v)
        return data

    def occurred_at(self):
        """Mostly today's date in the simulated calendar; ~1% back-dated."""
        r = self.rnd
        d = self.day
        if r.random() < 0.01:
            d = max(START, d - datetime.timedelta(days=r.randrange(20, 500)))
        if r.random() < 0.002:
            return self.month_str(d)
        return self.date_str(d)

    def lines(self):
        """Yield (type, occurred_at, data) for count lines."""
        boot = [(t, d) for t, d in self.bootstrap() if t in self.supported]
        rnd = self.rnd
        for i in range(self.count):
            self.day = START + datetime.timedelta(days=i * SPAN_DAYS // self.count)
            if boot:
                etype, data = boot.pop(0)
            elif self.followups and rnd.random() < 0.5:
                etype, data = self.followups.popleft()
                if data is None:
                    try:
                        data = self.make(etype)
                    except Impossible:
                        etype, data = self.fallback()
            else:
                etype = self.choose_type()
                try:
                    data = self.make(etype)
                except Impossible:
                    etype, data = self.fallback()
            self.apply(etype, data)
            yield etype, self.occurred_at(), data

    def fallback(self):
        """When the chosen type has nothing to work on: create something."""
        for etype in ("meeting-held", "organisation-registered", "project-registered"):
            if etype in self.supported:
                try:
                    return etype, self.make(etype)
                except Impossible:
                    continue
        raise SystemExit("gen_events.py: cannot generate any event from this catalog")


def encode(etype, occurred_at, data):
    return json.dumps({"type": etype, "occurred_at": occurred_at, "data": data,
                       "meta": {"source": "synthetic"}},
                      ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Checking (uses the jsonschema package)
# ---------------------------------------------------------------------------


class Checker:
    """Validates import lines against the catalog, independently of Generator."""

    def __init__(self, events_dir, types, schemas, defs):
        try:
            import jsonschema
            from referencing import Registry, Resource
        except ImportError:
            raise SystemExit("gen_events.py: --check needs the jsonschema package (pip install jsonschema)")
        resources = [(defs["$id"], Resource.from_contents(defs))]
        for s in schemas.values():
            resources.append((s["$id"], Resource.from_contents(s)))
        registry = Registry().with_resources(resources)
        self.validators = {
            name: jsonschema.Draft202012Validator(s, registry=registry,
                                                  format_checker=jsonschema.FormatChecker())
            for name, s in schemas.items()
        }
        self.types = types
        self.streams = set()
        self.errors = []

    def check(self, lineno, line):
        def err(msg):
            self.errors.append("line %d: %s" % (lineno, msg))

        try:
            rec = json.loads(line)
        except ValueError as e:
            return err("not JSON: %s" % e)
        if list(rec) != ["type", "occurred_at", "data", "meta"]:
            err("keys are %s" % list(rec))
        etype = rec.get("type")
        if etype in SYSTEM_TYPES:
            err("system type %s generated" % etype)
        if etype not in self.validators:
            return err("unknown type %r" % etype)
        if not OCCURRED_RE.match(rec.get("occurred_at", "")):
            err("occurred_at %r" % rec.get("occurred_at"))
        if rec.get("meta") != {"source": "synthetic"}:
            err("meta %r" % rec.get("meta"))
        data = rec.get("data")
        for e in self.validators[etype].iter_errors(data):
            err("%s: %s at %s" % (etype, e.message, "/".join(map(str, e.absolute_path))))
        if not isinstance(data, dict):
            return
        t = self.types[etype]
        # stream: created once, or existing
        if t.kind and t.key:
            stream = "%s/%s" % (t.kind, data.get(t.key))
            if t.creates:
                if stream in self.streams:
                    err("%s creates %s a second time" % (etype, stream))
                self.streams.add(stream)
            elif stream not in self.streams:
                err("%s on stream %s that no earlier line created" % (etype, stream))
        for field, kind, is_array in t.refs():
            if field not in data or field == t.key:
                continue
            values = data[field] if is_array else [data[field]]
            for v in values:
                if "%s/%s" % (kind, v) not in self.streams:
                    err("%s.%s = %r: no stream %s/%s yet" % (etype, field, v, kind, v))
        # every string within the schema limits is already checked by jsonschema;
        # check slugs by the catalog's pattern and length even where only a $ref said so
        for field, spec in t.props.items():
            if spec.get("x-def") in ("slug", "org-ref") and field in data:
                if not (SLUG_RE.match(data[field]) and len(data[field]) <= 64):
                    err("%s.%s = %r is not a slug" % (etype, field, data[field]))


def run(args):
    defs, schemas = load_catalog(args.events)
    types = {name: EventType(name, s, defs) for name, s in schemas.items()}
    checker = Checker(args.events, types, schemas, defs) if (args.check or args.validate) else None
    limit = args.check_lines

    stats = collections.Counter()
    total_bytes = 0
    backdated = 0
    last_date = ""
    n = 0

    if args.validate:
        source = open(args.validate, encoding="utf-8")
        lines = (l.rstrip("\n") for l in source)
    else:
        gen = Generator(types, args.seed, args.count)
        lines = (encode(t, o, d) for t, o, d in gen.lines())

    out = sys.stdout
    write = out.write
    buf = []
    for line in lines:
        n += 1
        if not args.validate:
            buf.append(line)
            if len(buf) >= 4096:
                write("\n".join(buf) + "\n")
                buf.clear()
        if checker and n <= limit:
            checker.check(n, line)
            if len(checker.errors) > 50:
                break
        if args.stats or checker:
            total_bytes += len(line.encode("utf-8")) + 1
            etype = line[9:line.index('"', 9)]
            stats[etype] += 1
            oa = line[line.index('"occurred_at":"') + 15:]
            oa = oa[:oa.index('"')]
            if oa < last_date[:len(oa)]:
                backdated += 1
            else:
                last_date = oa
    if buf:
        write("\n".join(buf) + "\n")
    out.flush()

    if args.stats or checker:
        err = sys.stderr
        print("lines %d, bytes %d, average %.1f bytes/line, back-dated %.2f%%" %
              (n, total_bytes, total_bytes / max(n, 1), 100.0 * backdated / max(n, 1)), file=err)
        for etype, c in stats.most_common():
            print("  %-34s %9d  %5.2f%%" % (etype, c, 100.0 * c / max(n, 1)), file=err)
        missing = [t for t in types if t not in SYSTEM_TYPES and t not in stats]
        if missing and n >= 5000:
            print("types never generated: %s" % ", ".join(missing), file=err)
    if checker:
        if checker.errors:
            for e in checker.errors[:50]:
                print("check: " + e, file=sys.stderr)
            print("check: FAILED (%d problem(s) in the first %d lines)" % (len(checker.errors), min(n, limit)),
                  file=sys.stderr)
            return 1
        print("check: ok, first %d lines valid against the catalog, every reference resolves"
              % min(n, limit), file=sys.stderr)
    return 0


def main():
    p = argparse.ArgumentParser(description="Deterministic synthetic Kopa import lines (NDJSON on stdout).")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--count", type=int, default=1000, help="number of lines (default 1000)")
    p.add_argument("--events", default=default_events_dir(), help="catalog directory (default: ../events beside this script)")
    p.add_argument("--check", action="store_true", help="validate the first --check-lines lines with jsonschema")
    p.add_argument("--check-lines", type=int, default=20000, help="how many lines --check validates (default 20000)")
    p.add_argument("--validate", metavar="FILE", help="validate an existing file instead of generating")
    p.add_argument("--stats", action="store_true", help="print size and type statistics to stderr")
    args = p.parse_args()
    if args.count < 1:
        p.error("--count must be at least 1")
    try:
        return run(args)
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
