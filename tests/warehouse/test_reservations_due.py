"""The scheduler's sweep: parcels packed a while ago whose ship task was lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import product
from tests.warehouse.parcels import Parcel, packing, reserved, shipped
from warehouse.models import Reservation
from warehouse.services import reservations_due

pytestmark = pytest.mark.django_db


def done_ago(parcel: Parcel, seconds: float) -> Parcel:
    """As if its packing had been done `seconds` ago."""
    Reservation.objects.filter(order_id=parcel.order_id).update(
        ship_after=timezone.now() - timedelta(seconds=seconds)
    )
    return parcel


def test_only_parcels_still_packing_well_after_packing_was_done_are_due():
    product("MUG-001", stock=10)
    lost = done_ago(packing(("MUG-001", 1))[0], 60)
    # Its ship task is running about now: the sweep leaves it a few seconds.
    done_ago(packing(("MUG-001", 1))[0], 1)
    packing(("MUG-001", 1))  # packing is not done
    # Not packing (any more, or yet): long past their time, but nothing to ship.
    done_ago(shipped(("MUG-001", 1))[0], 60)
    done_ago(reserved(("MUG-001", 1)), 60)

    assert reservations_due() == [lost.order_id]
