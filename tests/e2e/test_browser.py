"""A shopper in a real browser (Debian's chromium driven by Playwright): BUY, then watch."""

import os
from pathlib import Path

import pytest

from tests.factories import product

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# As root and on a closed network, chromium needs these to start quickly and quietly.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need chromium at {CHROMIUM}: `apt-get install chromium` "
            "(make test does it when run as root), or set CHROMIUM to its path."
        )
    # Playwright drives its browser from a thread of its own; Django's async-safety check
    # would otherwise refuse the live server's database calls made from this test.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def fill_and_buy(page, base_url: str, slug: str, quantity: int, address="1 Orbit Road"):
    page.goto(f"{base_url}/products/{slug}/")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_label("Your name").fill("Katherine Johnson")
    page.get_by_label("Email").fill("katherine@example.com")
    page.get_by_label("Phone").fill("+1 555 0199")
    page.get_by_label("Shipping address").fill(address)
    page.get_by_role("button", name="BUY").click()
    page.wait_for_url("**/orders/*/")


def test_a_shopper_buys_and_watches_the_order_reach_dispatched_without_reloading(
    live_server, shop_processes, browser
):
    product("MUG-001", price="14.00", stock=10)
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server.url)
    page.get_by_role("link", name="Product MUG-001").click()

    fill_and_buy(page, live_server.url, "mug-001", 2)

    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    # The page fills in by itself: created, reserved, confirmed, then dispatched.
    page.locator("[data-status='dispatched']").wait_for()
    for step in (
        "PlaceOrder",
        "OrderPlaced",
        "StockReserved",
        "OrderConfirmed",
        "DispatchOrder",
        "OrderDispatched",
    ):
        page.get_by_text(step, exact=True).wait_for()  # strict: exactly one such message
    assert navigations == []  # no reload happened
    assert "€28.00" in page.inner_text("table.lines")
    assert "ParcelPost PP" in page.inner_text(".tracking")
    assert page.get_by_role("button", name="Cancel order").count() == 0


def test_buying_more_than_is_left_shows_the_cancellation_and_why(
    live_server, shop_processes, browser
):
    product("UMB-014", stock=1)
    page = browser.new_page()
    page.set_default_timeout(30_000)

    fill_and_buy(page, live_server.url, "umb-014", 3)

    status = page.locator("[data-status='cancelled']")
    status.wait_for()
    assert "Out of stock: Product UMB-014 (1 left, 3 wanted)" in status.inner_text()
    page.get_by_text("StockUnavailable", exact=True).wait_for()
    page.get_by_text("OrderCancelled", exact=True).wait_for()


def test_a_shopper_cancels_an_order(live_server, shop_processes, browser):
    product("KTL-002", stock=4)
    page = browser.new_page()
    page.set_default_timeout(30_000)
    fill_and_buy(page, live_server.url, "ktl-002", 1)
    page.locator("[data-status='confirmed']").wait_for()

    page.get_by_role("button", name="Cancel order").click()

    assert "You asked to cancel this order" in page.inner_text(".flash")
    page.locator("[data-status='cancelled']").wait_for()
    assert "Cancelled: at your request" in page.inner_text("[data-status='cancelled']")
    for step in ("CancelOrder", "CancelDispatch", "DispatchCancelled", "OrderCancelled"):
        page.get_by_text(step, exact=True).wait_for()


def test_a_bad_quantity_is_explained_on_the_page(live_server, browser):
    product("MUG-001")
    page = browser.new_page()

    page.goto(f"{live_server.url}/products/mug-001/")
    page.get_by_label("Quantity").fill("0")
    page.get_by_role("button", name="BUY").click()

    assert page.locator("#buy-errors").inner_text() == "Please correct 5 fields below."
    assert page.locator("#buy-errors").evaluate("e => e === document.activeElement")
    assert page.get_by_text("Choose at least 1.").is_visible()
