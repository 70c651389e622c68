"""Country profiles: facilities, migrant mixes and languages for Chile and Brazil.

Facility names follow each country's naming custom; the figures (capacity, security) are
illustrative, not those of any real establishment.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Facility:
    code: str
    name: str
    region: str
    facility_type: str  # closed, semi_open, open, community_office
    security_level: str  # maximum, high, medium, low, minimum
    capacity: int
    population_sex: str  # male, female, mixed


@dataclasses.dataclass(frozen=True)
class CountryProfile:
    code: str
    language: str
    facilities: tuple[Facility, ...]
    # Default share of foreign nationals in the prison population, and their mix.
    foreign_national_share: float
    migrant_nationalities: tuple[tuple[str, float], ...]
    # Default share of nationals who speak an indigenous language, and which languages.
    indigenous_language_share: float
    indigenous_languages: tuple[tuple[str, float], ...]
    prison_number_prefix: str


_CL_METRO = "Metropolitana de Santiago"

CHILE = CountryProfile(
    code="CL",
    language="es",
    facilities=(
        Facility(
            "CL-RM-CP01",
            "Centro Penitenciario Santiago Sur",
            _CL_METRO,
            "closed",
            "high",
            4800,
            "male",
        ),
        Facility(
            "CL-RM-CP02",
            "Centro Penitenciario Colina II",
            _CL_METRO,
            "closed",
            "maximum",
            2100,
            "male",
        ),
        Facility(
            "CL-RM-CPF1",
            "Centro Penitenciario Femenino de Santiago",
            _CL_METRO,
            "closed",
            "medium",
            1300,
            "female",
        ),
        Facility(
            "CL-RM-CET1",
            "Centro de Educación y Trabajo Metropolitano",
            _CL_METRO,
            "semi_open",
            "low",
            260,
            "mixed",
        ),
        Facility(
            "CL-RM-CAB1", "Centro Abierto Santiago", _CL_METRO, "open", "minimum", 150, "mixed"
        ),
        Facility(
            "CL-RM-CRS1",
            "Centro de Reinserción Social Santiago",
            _CL_METRO,
            "community_office",
            "minimum",
            1800,
            "mixed",
        ),
        Facility(
            "CL-VS-CP01",
            "Centro Penitenciario Valparaíso",
            "Valparaíso",
            "closed",
            "high",
            2700,
            "male",
        ),
        Facility(
            "CL-VS-CET1",
            "Centro de Educación y Trabajo Valparaíso",
            "Valparaíso",
            "semi_open",
            "low",
            140,
            "male",
        ),
        Facility(
            "CL-BI-CP01", "Centro Penitenciario Biobío", "Biobío", "closed", "medium", 2000, "mixed"
        ),
        Facility(
            "CL-AR-CP01",
            "Centro Penitenciario Temuco",
            "La Araucanía",
            "closed",
            "medium",
            1500,
            "mixed",
        ),
    ),
    foreign_national_share=0.09,
    migrant_nationalities=(("PE", 0.30), ("BO", 0.25), ("CO", 0.20), ("VE", 0.17), ("HT", 0.08)),
    indigenous_language_share=0.03,
    indigenous_languages=(("arn", 0.8), ("ay", 0.15), ("qu", 0.05)),
    prison_number_prefix="CL",
)

BRAZIL = CountryProfile(
    code="BR",
    language="pt",
    facilities=(
        Facility(
            "BR-SP-CDP1",
            "Centro de Detenção Provisória de Pinheiros",
            "São Paulo",
            "closed",
            "high",
            3500,
            "male",
        ),
        Facility(
            "BR-SP-PE01",
            "Penitenciária de Presidente Venceslau",
            "São Paulo",
            "closed",
            "maximum",
            1600,
            "male",
        ),
        Facility(
            "BR-SP-PF01",
            "Penitenciária Feminina de Santana",
            "São Paulo",
            "closed",
            "medium",
            2400,
            "female",
        ),
        Facility(
            "BR-SP-CPP1",
            "Centro de Progressão Penitenciária de Bauru",
            "São Paulo",
            "semi_open",
            "low",
            900,
            "male",
        ),
        Facility(
            "BR-SP-CPMA",
            "Central de Penas e Medidas Alternativas de São Paulo",
            "São Paulo",
            "community_office",
            "minimum",
            3000,
            "mixed",
        ),
        Facility(
            "BR-MG-PE01",
            "Penitenciária Estadual de Contagem",
            "Minas Gerais",
            "closed",
            "high",
            2200,
            "male",
        ),
        Facility(
            "BR-MG-CA01",
            "Casa do Albergado de Belo Horizonte",
            "Minas Gerais",
            "open",
            "minimum",
            300,
            "mixed",
        ),
        Facility(
            "BR-RS-CP01",
            "Cadeia Pública de Porto Alegre",
            "Rio Grande do Sul",
            "closed",
            "high",
            3000,
            "male",
        ),
        Facility(
            "BR-RS-IP01",
            "Instituto Penal de Charqueadas",
            "Rio Grande do Sul",
            "semi_open",
            "low",
            450,
            "mixed",
        ),
        Facility(
            "BR-MS-PE01",
            "Estabelecimento Penal de Ponta Porã",
            "Mato Grosso do Sul",
            "closed",
            "medium",
            1100,
            "mixed",
        ),
    ),
    foreign_national_share=0.01,
    migrant_nationalities=(("PY", 0.45), ("BO", 0.35), ("VE", 0.20)),
    indigenous_language_share=0.005,
    indigenous_languages=(("gn", 1.0),),
    prison_number_prefix="BR",
)

PROFILES = {"CL": CHILE, "BR": BRAZIL}

# Languages spoken (ISO 639 codes, first is the main one) by nationality, with weights.
LANGUAGES_BY_NATIONALITY: dict[str, tuple[tuple[str, float], ...]] = {
    "PE": (("es", 0.85), ("es;qu", 0.12), ("qu;es", 0.03)),
    "BO": (("es", 0.60), ("es;ay", 0.25), ("es;qu", 0.15)),
    "CO": (("es", 1.0),),
    "VE": (("es", 1.0),),
    "HT": (("ht;es", 0.45), ("ht;fr;es", 0.35), ("ht;fr", 0.10), ("ht", 0.10)),
    "PY": (("es;gn", 0.60), ("gn;es", 0.25), ("es", 0.15)),
}
# Migrants in Brazil often speak some Portuguese as well.
SECOND_LANGUAGE_IN_BRAZIL = ("pt", 0.3)
