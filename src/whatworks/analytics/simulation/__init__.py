"""A synthetic prison system with a known truth.

It generates persons, custody episodes, movements, post-release outcome events,
assessments (RNR screener, K6, AUDIT) and rehabilitation programmes (catalogue, groups,
sessions, referrals, attendance) for a Chilean or Brazilian prison service, from a
documented generative model (docs/simulator.md).
The same configuration always gives byte-identical output.

>>> import datetime
>>> from whatworks.analytics.simulation import SimulationConfig, simulate
>>> config = SimulationConfig(persons=200, seed=1, extract_date=datetime.date(2026, 6, 30))
>>> service = simulate(config)
>>> service.persons.height
200
"""

from whatworks.analytics.simulation.config import SimulationConfig
from whatworks.analytics.simulation.model import SimulatedService, simulate
from whatworks.analytics.simulation.writer import TABLES, write_extract

__all__ = ["TABLES", "SimulatedService", "SimulationConfig", "simulate", "write_extract"]
