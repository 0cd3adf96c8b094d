"""arXiv listings as feeds, saved and over HTTP.

The listings below are SYNTHETIC, written here in the shapes arXiv documents (info.arxiv.org/help/
rss_specifications.html and the API user manual): the team's shared inputs hold no real saved listing yet,
and developers do not copy public repositories' files into this one."""

import http.server
import threading

from conftest import kg
from kg.feeds import read_inputs

RSS = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>cs.LG updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/cs.LG</link>
    <description>cs.LG updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/cs.LG" rel="self" type="application/rss+xml"/>
    <language>en-us</language>
    <lastBuildDate>Mon, 10 Jun 2024 00:00:00 -0400</lastBuildDate>
    <item>
      <title>Parallelizing Linear Transformers with the Delta Rule over Sequence Length</title>
      <link>https://arxiv.org/abs/2406.06484</link>
      <description>arXiv:2406.06484v1 Announce Type: new
Abstract: Transformers with linear attention and state-space models have recently been suggested.</description>
      <guid isPermaLink="false">oai:arXiv.org:2406.06484v1</guid>
      <category>cs.LG</category>
      <category>cs.CL</category>
      <pubDate>Mon, 10 Jun 2024 00:00:00 -0400</pubDate>
      <arxiv:announce_type>new</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>Songlin Yang, Bailin Wang, Yu Zhang, Yikang Shen, Yoon Kim</dc:creator>
    </item>
    <item>
      <title>A Linear Reconstruction Approach for Attribute Inference Attacks against Synthetic Data</title>
      <link>https://arxiv.org/abs/2301.01244</link>
      <description>arXiv:2301.01244v3 Announce Type: replace-cross
Abstract: Recent advances in synthetic data generation.</description>
      <guid isPermaLink="false">oai:arXiv.org:2301.01244v3</guid>
      <category>cs.CR</category>
      <pubDate>Mon, 10 Jun 2024 00:00:00 -0400</pubDate>
      <arxiv:announce_type>replace-cross</arxiv:announce_type>
      <dc:creator>Meenatchi Sundaram Muthu Selva Annamalai, Andrea Gadotti, Luc Rocher</dc:creator>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: search_query=ti:delta&amp;id_list=&amp;start=0&amp;max_results=2</title>
  <id>http://arxiv.org/api/synthetic</id>
  <updated>2024-06-11T00:00:00-04:00</updated>
  <entry>
    <id>http://arxiv.org/abs/2406.06484v2</id>
    <updated>2024-06-11T17:59:59Z</updated>
    <published>2024-06-10T17:24:42Z</published>
    <title>Parallelizing Linear Transformers with the Delta Rule over
  Sequence Length</title>
    <summary>  Transformers with linear attention have recently been suggested.
</summary>
    <author><name>Songlin Yang</name></author>
    <author><name>Yoon Kim</name></author>
    <arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.48550/arXiv.2406.06484</arxiv:doi>
    <link href="http://arxiv.org/abs/2406.06484v2" rel="alternate" type="text/html"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/hep-th/9901001v1</id>
    <published>1999-01-01T00:00:00Z</published>
    <title>An old-style identifier</title>
    <summary>Strings.</summary>
    <author><name>A. Physicist</name></author>
  </entry>
</feed>
"""


def test_the_daily_rss_of_a_category(tmp_path):
    path = tmp_path / "cs.LG.xml"
    path.write_text(RSS)
    delta, attack = read_inputs([str(path)]).papers
    assert delta.arxiv_id == "2406.06484" and delta.announce_type == "new" and delta.author_count == 5
    assert delta.abstract.startswith("Transformers with linear attention") and "Announce Type" not in delta.abstract
    assert delta.published == "2024-06-10" and delta.authors[-1] == "Yoon Kim"
    assert attack.arxiv_id == "2301.01244" and attack.announce_type == "replace-cross"


def test_an_api_atom_answer(tmp_path):
    path = tmp_path / "query.atom"
    path.write_text(ATOM)
    delta, old = read_inputs([str(path)]).papers
    assert delta.arxiv_id == "2406.06484" and delta.authors == ("Songlin Yang", "Yoon Kim")
    assert delta.title == "Parallelizing Linear Transformers with the Delta Rule over Sequence Length"
    assert delta.published == "2024-06-10" and old.arxiv_id == "hep-th/9901001"


def test_a_listing_by_url_over_http():
    class Listing(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = RSS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = kg("feed", f"http://127.0.0.1:{server.server_port}/rss/cs.LG", "--json")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('"arxiv_id": "2406.06484"') == 1 and "2 papers" in result.stderr
