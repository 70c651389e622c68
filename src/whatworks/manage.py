"""The `whatworks` console command: Django's management entry point plus our own commands.

`whatworks simulate`, `whatworks recidivism`, `whatworks instrument`, `whatworks evaluate` and
`whatworks riskmodel` are routed to the pure-Python analytics package before Django starts, so
they need no database and no secret key: they work on any extract. `whatworks demo` switches on
demo mode and provides the demo's generated secret key, which is the only way the app starts without
SECRET_KEY.
"""

from __future__ import annotations

import os
import secrets
import sys

# Developer commands that never sign anything: they may run without SECRET_KEY (with a
# throwaway one), so a contributor can make migrations or messages with no configuration.
# Everything else, serving above all, refuses to start without SECRET_KEY.
KEYLESS_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages", "help"})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    command = argv[1] if len(argv) > 1 else ""
    if command == "simulate":
        from whatworks.analytics.simulation.cli import main as simulate_main

        return simulate_main(argv[2:])
    if command == "recidivism":
        from whatworks.analytics.recidivism.cli import main as recidivism_main

        return recidivism_main(argv[2:])
    if command == "instrument":
        from whatworks.analytics.instruments.cli import main as instrument_main

        return instrument_main(argv[2:])
    if command == "evaluate":
        from whatworks.analytics.evaluation.cli import main as evaluate_main

        return evaluate_main(argv[2:])
    if command == "riskmodel":
        from whatworks.analytics.riskmodel.cli import main as riskmodel_main

        return riskmodel_main(argv[2:])
    if command == "demo":
        from whatworks.environment import data_dir, ensure_demo_secret_key

        os.environ["WHATWORKS_DEMO_MODE"] = "1"
        os.environ.setdefault("SECRET_KEY", ensure_demo_secret_key(data_dir()))
    if command in KEYLESS_COMMANDS and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = "keyless-developer-command-" + secrets.token_urlsafe(32)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "whatworks.settings")

    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
