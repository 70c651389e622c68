"""Reading the YAML files that ship inside the analytics packages (presets, instruments)."""

from __future__ import annotations

import importlib.resources


def packaged_yaml_texts(package: str, folder: str) -> list[tuple[str, str]]:
    """(file name, text) of each ``.yaml``/``.yml`` file in ``package``'s ``folder``, by name.

    Goes through ``importlib.resources``, so it works from a wheel as well as a checkout.
    """
    root = importlib.resources.files(package).joinpath(folder)
    return [
        (entry.name, entry.read_text("utf-8"))
        for entry in sorted(root.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith((".yaml", ".yml"))
    ]
