"""The route of a case in a real browser: a unit's secretary opens a case at its third step and sees
"Bước 3/6" and the diagram drawn by the server, the current step highlighted, with no script and no
policy violation; a PDF of the dossier previews in its frame."""

import pytest
from django.urls import reverse

from tests.e2e.browser import BROWSER_MARKS, log_in, new_browser, screenshots
from tests.factories import approve_until, build_org, submitted

pytestmark = BROWSER_MARKS


@pytest.fixture
def browser():
    driver = new_browser(console=True)
    yield driver
    driver.quit()


def test_the_diagram_of_a_case_at_its_third_step(browser, live_server):
    from selenium.webdriver.common.by import By

    org = build_org()
    org.city_form.council_vote = True
    org.city_form.save()
    nomination = approve_until(submitted(org), "board_intake")
    log_in(browser, live_server, "hospital_secretary")
    browser.get(live_server.url + reverse("processes:nomination-detail", args=[nomination.pk]))

    route = browser.find_element(By.ID, "route")
    assert "Bước 3/6" in route.find_element(By.CSS_SELECTOR, "h2").text
    svg = route.find_element(By.CSS_SELECTOR, "svg.route-diagram")
    assert svg.size["width"] > 300
    current = route.find_element(By.CSS_SELECTOR, "g.current")
    assert current.get_attribute("aria-current") == "step"
    assert "Ban Thi đua - Khen thưởng tiếp" in current.text
    assert "hạn" in current.text  # its holder and due time
    assert current.find_element(By.CSS_SELECTOR, "rect").get_attribute("stroke-width") == "3"
    assert len(route.find_elements(By.CSS_SELECTOR, "g.decided")) == 2
    assert len(route.find_elements(By.CSS_SELECTOR, "g.skipped")) == 1  # the public posting
    assert route.find_elements(By.CSS_SELECTOR, "g.vote")
    # The history's file opens in a frame of its own (a PDF, shown inline by the same permission check).
    browser.find_element(By.CSS_SELECTOR, "details.file-preview summary").click()
    frame = browser.find_element(By.CSS_SELECTOR, "details.file-preview iframe")
    assert frame.is_displayed()
    refused = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]
    assert refused == []
    browser.execute_script("document.getElementById('route').scrollIntoView()")
    # At 360 px nothing of the route or the dossier is wider than the screen (the files' table scrolls
    # in its own box).
    browser.set_window_size(360, 1000)
    too_wide = browser.execute_script(
        "const width = document.documentElement.clientWidth;"
        "return [...document.querySelectorAll('#route, #route *, #dossier-files, #dossier-files *')].filter("
        "  element => element.getBoundingClientRect().right > width + 1 && !element.closest('.table-wrap')"
        ").map(element => element.tagName);"
    )
    assert too_wide == []
    assert browser.find_element(By.CSS_SELECTOR, "svg.route-diagram").size["width"] <= 360
    screenshots(browser, "case-route")
