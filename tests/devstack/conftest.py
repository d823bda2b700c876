from pathlib import Path

import pytest

from tests.devstack.shell import make_checkout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout of its own for `python manage.py` in a second shell (tests.devstack.shell)."""
    return make_checkout(tmp_path / "checkout")
