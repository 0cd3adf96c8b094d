"""Take the README's screenshot of the report's citation map: `python scripts/report-screenshot.py EXPORT OUT.png`.

Opens EXPORT/report.html in headless Chromium (Selenium, chromium-driver), selects the feed paper with the most
references on the map, and saves the map and its side panel as a PNG.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from test_explore import browser  # noqa: E402


def main(export: Path, png: Path) -> None:
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
        finally:
            driver.quit()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
