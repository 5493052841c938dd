"""Reference facts about Sweden's kommuner and län (SCB codes)."""

from django.utils.text import slugify

# SCB's 21 län, code → name.
COUNTIES: dict[str, str] = {
    "01": "Stockholms län",
    "03": "Uppsala län",
    "04": "Södermanlands län",
    "05": "Östergötlands län",
    "06": "Jönköpings län",
    "07": "Kronobergs län",
    "08": "Kalmar län",
    "09": "Gotlands län",
    "10": "Blekinge län",
    "12": "Skåne län",
    "13": "Hallands län",
    "14": "Västra Götalands län",
    "17": "Värmlands län",
    "18": "Örebro län",
    "19": "Västmanlands län",
    "20": "Dalarnas län",
    "21": "Gävleborgs län",
    "22": "Västernorrlands län",
    "23": "Jämtlands län",
    "24": "Västerbottens län",
    "25": "Norrbottens län",
}


def county_code_for(kommunkod: str) -> str:
    """A kommunkod's first two digits are its län's code."""
    return kommunkod[:2]


def municipality_slugs(names_by_code: dict[str, str]) -> dict[str, str]:
    """ASCII slugs for kommun names, unique across the country.

    Two names can fold to the same slug (Håbo and Habo): the lower kommunkod keeps
    the plain slug and the other gets its län appended, so slugs never depend on
    the order in which kommuner were created.
    """
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for code in sorted(names_by_code):
        slug = slugify(names_by_code[code])
        if slug in taken:
            county = COUNTIES[county_code_for(code)].removesuffix(" län")
            slug = f"{slug}-{slugify(county)}"
        taken.add(slug)
        slugs[code] = slug
    return slugs


# FixaMinGata's standard category list (2017 onwards), as it is published.
STANDARD_CATEGORIES: tuple[str, ...] = (
    "Avfall och återvinning",
    "Cykelställ",
    "Gång- och cykelbana",
    "Gatubelysning",
    "Hållplats",
    "Igensatt brunn",
    "Klotter",
    "Lekplatser",
    "Nedskräpning",
    "Offentlig toalett",
    "Övrigt",
    "Park",
    "Parkering",
    "Träd och buskage",
    "Trafiksignaler",
    "Vägar (Övriga)",
    "Vägmärken och skyltar",
    "Vatten och avlopp",
    "Vinterväghållning",
)
# Reports in this category go to Trafikverket, not to the kommun.
STATE_ROAD_CATEGORY = "Vägar (Riksvägar/Trafikverket)"
TRAFIKVERKET = "Trafikverket"
