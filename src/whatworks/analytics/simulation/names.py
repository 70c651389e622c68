"""Names, national identity numbers and languages that follow each culture's custom.

Spanish-speaking countries use one or two given names and two surnames (father's, then
mother's): "María José" / "González Muñoz". Brazilian names put the mother's surname first
and often carry a particle: "Ana Paula" / "Souza da Silva". Haitian names have one surname.
"""

from __future__ import annotations

import numpy as np

# Given names and surnames common in each country (public name-frequency lists).
# fmt: off
_SPANISH_MALE = (
    "José", "Juan", "Luis", "Carlos", "Jorge", "Manuel", "Francisco", "Cristián", "Sebastián",
    "Matías", "Nicolás", "Felipe", "Diego", "Benjamín", "Tomás", "Ignacio", "Rodrigo", "Patricio",
    "Héctor", "Víctor", "Raúl", "Andrés", "Javier", "Óscar", "Hernán", "Álvaro", "Joaquín",
    "Pablo", "Miguel", "Ángel", "Esteban", "Claudio", "Marcelo", "Ramón", "Iván", "Julián",
)
_SPANISH_FEMALE = (
    "María", "Ana", "Carolina", "Camila", "Valentina", "Javiera", "Francisca", "Constanza",
    "Daniela", "Paola", "Andrea", "Claudia", "Verónica", "Sofía", "Belén", "Inés", "Mónica",
    "Patricia", "Ximena", "Macarena", "Lucía", "Ángela", "Raquel", "Soledad", "Rocío", "Natalia",
)
_CHILEAN_SURNAMES = (
    "González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez",
    "Sepúlveda", "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya",
    "Flores", "Espinoza", "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro",
    "Pizarro", "Álvarez", "Vásquez", "Sánchez", "Fernández", "Ramírez", "Carrasco", "Gómez",
    "Cortés", "Herrera", "Núñez", "Jara", "Vergara", "Rivera", "Figueroa", "Riquelme", "García",
    "Miranda", "Bravo", "Vera", "Molina", "Vega", "Sandoval", "Orellana", "Zúñiga", "Alarcón",
    "Gallardo", "Salazar", "Guzmán", "Henríquez", "Saavedra", "Aravena", "Cárdenas", "Ortúzar",
)
_MAPUCHE_SURNAMES = (
    "Huenchullán", "Millalén", "Ñancupil", "Painemal", "Catrileo", "Huaiquimil", "Quilapán",
    "Llancaqueo", "Curihuinca", "Antileo", "Marileo", "Calfucura", "Lefín", "Nahuelpán",
)
_ANDEAN_SURNAMES = (
    "Quispe", "Mamani", "Huamán", "Condori", "Choque", "Apaza", "Ticona", "Chávez", "Ramos",
    "Flores", "Vargas", "Gutiérrez", "Rojas", "Cruz", "Torres", "Mendoza", "Huanca", "Yupanqui",
)
_CARIBBEAN_SURNAMES = (
    "Rodríguez", "Hernández", "Martínez", "Pérez", "González", "Gómez", "Díaz", "Ramírez",
    "Castillo", "Moreno", "Jiménez", "Ortiz", "Rincón", "Suárez", "Quintero", "Peña", "Ríos",
)
_PARAGUAYAN_SURNAMES = (
    "Benítez", "Giménez", "Ramírez", "Villalba", "Cáceres", "Ayala", "Duarte", "Acosta", "Ortiz",
    "Martínez", "González", "Núñez", "Báez", "Ozuna", "Fretes", "Insfrán",
)
_HAITIAN_MALE = (
    "Jean", "Jean-Claude", "Wilner", "Fritznel", "Jean-Baptiste", "Pierre", "Wilson", "Emmanuel",
    "Frantz", "Jocelyn", "Stéphane", "Ricardo", "Lesly", "Joseph",
)
_HAITIAN_FEMALE = (
    "Marie", "Nadège", "Rose-Marie", "Guerline", "Fabienne", "Mirlande", "Chantale", "Élise",
    "Judeline", "Roseline", "Manoucheka",
)
_HAITIAN_SURNAMES = (
    "Jean", "Pierre", "Joseph", "Louis", "Charles", "Baptiste", "Dorvil", "Saint-Fleur",
    "Jean-Louis", "Désir", "Étienne", "Augustin", "Célestin", "François",
)
_BRAZILIAN_MALE = (
    "João", "José", "Antônio", "Francisco", "Carlos", "Paulo", "Pedro", "Lucas", "Luiz", "Marcos",
    "Luís", "Gabriel", "Rafael", "Daniel", "Marcelo", "Bruno", "Eduardo", "Felipe", "Raimundo",
    "Rodrigo", "Sebastião", "André", "Fábio", "Márcio", "Cícero",
)
_BRAZILIAN_FEMALE = (
    "Maria", "Ana", "Francisca", "Antônia", "Adriana", "Juliana", "Márcia", "Fernanda", "Patrícia",
    "Aline", "Sandra", "Camila", "Amanda", "Bruna", "Jéssica", "Letícia", "Júlia", "Luciana",
    "Vanessa", "Mariana", "Conceição", "Raimunda", "Cláudia", "Débora",
)
_BRAZILIAN_SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
    "Santana", "Teixeira", "Araújo", "Conceição", "Jesus", "Assunção",
)
# fmt: on

# Surnames that take a particle in Brazil ("da Silva", "dos Santos", "de Jesus").
_BRAZILIAN_PARTICLES = {
    "Silva": "da",
    "Santos": "dos",
    "Conceição": "da",
    "Jesus": "de",
    "Costa": "da",
    "Rocha": "da",
    "Assunção": "da",
    "Nascimento": "do",
}

# Name culture per nationality; Chilean nationals with an indigenous language use "mapuche".
CULTURES = ("chilean", "mapuche", "andean", "caribbean", "haitian", "brazilian", "paraguayan")
CULTURE_OF_NATIONALITY = {
    "CL": "chilean",
    "PE": "andean",
    "BO": "andean",
    "CO": "caribbean",
    "VE": "caribbean",
    "HT": "haitian",
    "BR": "brazilian",
    "PY": "paraguayan",
}

_GIVEN = {
    "chilean": (_SPANISH_MALE, _SPANISH_FEMALE),
    "mapuche": (_SPANISH_MALE, _SPANISH_FEMALE),
    "andean": (_SPANISH_MALE, _SPANISH_FEMALE),
    "caribbean": ((*_SPANISH_MALE, "Yeferson", "Wilmer", "Jhon"), (*_SPANISH_FEMALE, "Yulieth")),
    "haitian": (_HAITIAN_MALE, _HAITIAN_FEMALE),
    "brazilian": (_BRAZILIAN_MALE, _BRAZILIAN_FEMALE),
    "paraguayan": (_SPANISH_MALE, _SPANISH_FEMALE),
}
_SURNAMES = {
    "chilean": _CHILEAN_SURNAMES,
    "mapuche": _MAPUCHE_SURNAMES,
    "andean": _ANDEAN_SURNAMES,
    "caribbean": _CARIBBEAN_SURNAMES,
    "haitian": _HAITIAN_SURNAMES,
    "brazilian": _BRAZILIAN_SURNAMES,
    "paraguayan": _PARAGUAYAN_SURNAMES,
}


def person_names(
    rng: np.random.Generator, cultures: list[str], female: np.ndarray
) -> tuple[list[str], list[str]]:
    """Given names and surnames for each person, drawn from their culture's lists."""
    n = len(cultures)
    draws = rng.random((n, 6))
    first_names: list[str] = []
    last_names: list[str] = []
    for i in range(n):
        culture = cultures[i]
        given = _GIVEN[culture][1 if female[i] else 0]
        surnames = _SURNAMES[culture]
        u = draws[i]
        first = given[int(u[0] * len(given))]
        if culture == "brazilian":
            if u[1] < 0.55:
                second = given[int(u[2] * len(given))]
                if second != first:
                    first = f"{first} {second}"
            elif u[1] < 0.62 and female[i]:
                first = f"{first} da Conceição" if first != "Conceição" else first
            father = surnames[int(u[3] * len(surnames))]
            mother = surnames[int(u[4] * len(surnames))]
            particle = _BRAZILIAN_PARTICLES.get(father)
            if u[5] < 0.2 or father == mother:
                last = f"{particle} {father}" if particle and u[5] < 0.1 else father
            else:
                last = f"{mother} {particle} {father}" if particle else f"{mother} {father}"
            first_names.append(first)
            last_names.append(last)
            continue
        if culture == "haitian":
            if u[1] < 0.3:
                second = given[int(u[2] * len(given))]
                if second != first:
                    first = f"{first} {second}"
            first_names.append(first)
            last_names.append(surnames[int(u[3] * len(surnames))])
            continue
        # Spanish custom: one or two given names, father's then mother's surname.
        if u[1] < 0.6:
            second = given[int(u[2] * len(given))]
            if second != first:
                first = f"{first} {second}"
        father = surnames[int(u[3] * len(surnames))]
        if culture == "mapuche" and u[5] < 0.6:
            mother = _CHILEAN_SURNAMES[int(u[4] * len(_CHILEAN_SURNAMES))]
        else:
            mother = surnames[int(u[4] * len(surnames))]
        last = father if u[5] > 0.97 else f"{father} {mother}"  # a few register one surname
        first_names.append(first)
        last_names.append(last)
    return first_names, last_names


def chilean_rut(number: int) -> str:
    """Format a RUT with its modulo-11 check digit, e.g. 12.345.678-5."""
    total = 0
    factor = 2
    for digit in reversed(str(number)):
        total += int(digit) * factor
        factor = 2 if factor == 7 else factor + 1
    remainder = 11 - total % 11
    check = "0" if remainder == 11 else "K" if remainder == 10 else str(remainder)
    return f"{number:,}".replace(",", ".") + f"-{check}"


def rut_is_valid(rut: str) -> bool:
    """Check a formatted RUT's check digit."""
    body, _, check = rut.partition("-")
    digits = body.replace(".", "")
    return digits.isdigit() and chilean_rut(int(digits)) == rut and bool(check)


def brazilian_cpf(number: int) -> str:
    """Format a CPF (9 base digits) with its two check digits, e.g. 123.456.789-09."""
    digits = [int(d) for d in f"{number:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        remainder = total * 10 % 11
        digits.append(0 if remainder == 10 else remainder)
    text = "".join(str(d) for d in digits)
    return f"{text[0:3]}.{text[3:6]}.{text[6:9]}-{text[9:11]}"


def unique_numbers(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One integer per row in [low, high), all distinct (collisions are bumped upwards)."""
    values = low + np.floor(rng.random(len(low)) * (high - low)).astype(np.int64)
    values = values.astype(np.int64)
    while True:
        _, first_index = np.unique(values, return_index=True)
        duplicate = np.ones(len(values), dtype=bool)
        duplicate[first_index] = False
        if not duplicate.any():
            return values
        values[duplicate] += 1 + np.arange(int(duplicate.sum()))
