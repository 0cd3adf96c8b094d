"""Take the README's screenshots of the report: `python scripts/report-screenshot.py EXPORT MAP.png COAUTHORS.png`.

Opens EXPORT/report.html in headless Chromium (Selenium, chromium-driver), selects the feed paper with the most
references on the map and saves the map with its side panel, then opens the co-author network and saves it.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_explore import browser  # noqa: E402


def main(export: Path, png: Path, coauthors_png: Path) -> None:
    with tempfile.TemporaryDirectory() as profile:
        driver = browser(Path(profile))
        try:
            driver.set_window_size(1400, 1300)
            driver.get((export / "report.html").resolve().as_uri())
            WebDriverWait(driver, 60).until(lambda d: d.execute_script("return window.kgMap && kgMap.state.ready"))
            driver.execute_script("""
                const data = JSON.parse(document.getElementById('kg-data').textContent);
                const cites = new Map();
                for (const [from] of data.citations) cites.set(from, (cites.get(from) || 0) + 1);
                const best = data.works.filter(w => w.feed).sort((a, b) => (cites.get(b.id) || 0) - (cites.get(a.id) || 0))[0];
                kgMap.select(best.id);""")
            section = driver.find_element(By.ID, "kg-map-section")
            driver.execute_script("arguments[0].scrollIntoView()", section)
            section.screenshot(str(png))
            coauthors = driver.find_element(By.ID, "kg-coauthors")
            driver.execute_script("arguments[0].scrollIntoView()", coauthors)
            coauthors.find_element(By.TAG_NAME, "summary").click()
            WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                "return kgMap.coauthors && !kgMap.coauthors.physics.options.enabled"))
            network = driver.find_element(By.ID, "kg-coauthor-map")
            driver.execute_script("arguments[0].scrollIntoView()", network)
            network.screenshot(str(coauthors_png))
        finally:
            driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
