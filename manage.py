#!/usr/bin/env python
"""Django's command line. Run from a checkout, it needs neither an activated virtualenv nor
the demo's variables: `python manage.py replay_events ...` works beside `make demo` as is."""

import importlib.util
import os
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent


def use_checkout_venv() -> None:
    """Re-run under the checkout's .venv when this Python has no Django (a fresh shell).

    Only then: wherever Django is installed (a container, an activated venv) this is a no-op.
    """
    venv = CHECKOUT / ".venv"
    if importlib.util.find_spec("django") is not None or not (venv / "bin" / "python").exists():
        return
    if Path(sys.prefix).resolve() == venv.resolve():
        return  # the venv itself lacks Django: let the import below say so
    os.execv(venv / "bin" / "python", [str(venv / "bin" / "python"), *sys.argv])


if __name__ == "__main__":
    use_checkout_venv()
    from devstack import demo_env

    # The checkout's own var/, and only while its demo runs (see devstack.demo_env).
    demo_env.load(CHECKOUT / "var")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
