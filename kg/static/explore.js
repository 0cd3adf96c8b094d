// kg's report: the citation map on a timeline and the co-author network, drawn with vis-network.
// Everything it shows comes from the JSON in <script id="kg-data">, computed by kg/explore.py.
// Text from feeds and OpenAlex only ever reaches the page through textContent/innerText, never as markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("kg-data").textContent);
  const works = new Map(data.works.map((w) => [w.id, w]));
  const references = new Map();
  const citing = new Map();
  for (const [from, to] of data.citations) {
    if (!references.has(from)) references.set(from, []);
    if (!citing.has(to)) citing.set(to, []);
    references.get(from).push(to);
    citing.get(to).push(from);
  }
  const short = (id) => id.slice(id.lastIndexOf("/") + 1);
  const $ = (id) => document.getElementById(id);

  // The followed items: a kind and a text filter over the table's rows.
  const follows = $("kg-follows");
  if (follows) {
    const filterFollows = () => {
      const kind = $("kg-follow-kind").value;
      const find = $("kg-follow-find").value.trim().toLowerCase();
      for (const row of follows.querySelectorAll("tr[data-kind]")) {
        row.hidden = Boolean((kind && row.dataset.kind !== kind)
                             || (find && !row.textContent.toLowerCase().includes(find)));
      }
    };
    $("kg-follow-kind").addEventListener("change", filterFollows);
    $("kg-follow-find").addEventListener("input", filterFollows);
  }

  function tooltip(text) {
    const element = document.createElement("div");
    element.className = "kg-tip";
    element.innerText = text;
    return element;
  }

  function label(work) {
    if (!work.labelled) return undefined;
    return work.title.length > 44 ? work.title.slice(0, 42) + "…" : work.title;
  }

  // How a work looks: its thread's colour, outlined when it is a feed paper, a glowing star when new today.
  function look(work) {
    const border = work.new ? work.colour : work.feed ? "#222" : "rgba(90,100,110,0.5)";
    return {color: {background: work.colour, border: border, highlight: {background: work.colour, border: "#000"}},
            borderWidth: work.feed && !work.new ? 2 : 1,
            shadow: work.new ? {enabled: true, color: "rgba(241,196,15,0.9)", size: 14, x: 0, y: 0} : false};
  }

  const nodes = new vis.DataSet(data.works.map((w) => ({
    id: w.id, x: w.x, y: w.y, size: w.size, label: label(w), shape: w.new ? "star" : "dot",
    title: tooltip(`${w.title}\n${w.year ?? "no year"} · ${w.authors || "authors unknown"}` +
                   (w.feed ? "\nfeed paper" + (w.new ? " (new in the latest run)" : "") : "")),
    ...look(w),
  })));
  const PLAIN_EDGE = {color: "rgba(140,150,160,0.35)", width: 0.6};
  const edges = new vis.DataSet(data.citations.map(([from, to], i) => ({id: i, from, to, ...PLAIN_EDGE})));
  const network = new vis.Network($("kg-map"), {nodes, edges}, {
    physics: false,
    layout: {improvedLayout: false},
    interaction: {hover: true, tooltipDelay: 100, hideEdgesOnDrag: data.works.length > 1500, multiselect: false,
                  navigationButtons: false, keyboard: false, dragNodes: false, selectConnectedEdges: false},
    nodes: {font: {size: 14, face: "system-ui, sans-serif", background: "rgba(255,255,255,0.7)"},
            scaling: {label: {drawThreshold: 6}}},
    edges: {arrows: {to: {enabled: true, scaleFactor: 0.4}}, smooth: false, selectionWidth: 0},
  });

  // The timeline: a year above each column, the thread's name at the start of its lane.
  const columns = new Map();
  const lanes = new Map();
  for (const w of data.works) {
    columns.set(w.x, w.year);
    const lane = w.lane || "";
    lanes.set(lane, Math.min(lanes.has(lane) ? lanes.get(lane) : Infinity, w.y));
  }
  const threadNames = new Map(data.threads.map((t) => [t.id, `${t.id} ${t.name}`]));
  network.on("beforeDrawing", (ctx) => {
    const top = Math.min(...data.works.map((w) => w.y), 0) - 60;
    const left = Math.min(...columns.keys()) - 20;
    ctx.save();
    ctx.font = "bold 18px system-ui, sans-serif";
    ctx.fillStyle = "#8a939c";
    ctx.textAlign = "center";
    for (const [x, year] of columns) ctx.fillText(year == null ? "no year" : String(year), x, top);
    ctx.textAlign = "left";
    ctx.font = "bold 16px system-ui, sans-serif";
    for (const [lane, y] of lanes) ctx.fillText(lane ? threadNames.get(lane) || lane : "unconnected feed papers and other works", left, y - 22);
    ctx.restore();
  });

  // State the tests and the panel read.
  const state = {selected: null, highlighted: {references: [], citing: []}, matches: [], ready: null};

  // Highlights are drawn over the map, not written into its data: on 5,000 works every data update costs
  // vis-network about half a second, a redraw a few milliseconds.
  const MARK = {selected: ["#ffffff", "#000000"], reference: ["#f39c12", "#a35f00"], citing: ["#27ae60", "#145a32"],
                match: [null, "#000000"]};
  let lit = new Map(); // id -> selected | reference | citing | match
  let hidden = new Set(); // works the filters hide
  network.on("afterDrawing", (ctx) => {
    if (!lit.size) return;
    const canvas = $("kg-map").querySelector("canvas");
    const corner = network.DOMtoCanvas({x: 0, y: 0});
    const far = network.DOMtoCanvas({x: canvas.clientWidth, y: canvas.clientHeight});
    ctx.save();
    ctx.fillStyle = "rgba(255,255,255,0.7)"; // everything else fades
    ctx.fillRect(corner.x, corner.y, far.x - corner.x, far.y - corner.y);
    if (state.selected) {
      ctx.lineWidth = 2.5;
      for (const other of [...state.highlighted.references, ...state.highlighted.citing]) {
        if (hidden.has(other)) continue;
        const a = works.get(state.selected);
        const b = works.get(other);
        ctx.strokeStyle = lit.get(other) === "reference" ? "#d35400" : "#1e8449";
        ctx.beginPath();
        ctx.moveTo(a.x, a.y);
        ctx.lineTo(b.x, b.y);
        ctx.stroke();
      }
    }
    for (const [id, kind] of lit) {
      if (hidden.has(id)) continue;
      const w = works.get(id);
      const [fill, ring] = MARK[kind];
      ctx.beginPath();
      ctx.arc(w.x, w.y, w.size + 2, 0, 2 * Math.PI);
      ctx.fillStyle = fill || w.colour;
      ctx.fill();
      ctx.lineWidth = kind === "selected" || kind === "match" ? 4 : 2;
      ctx.strokeStyle = ring;
      ctx.stroke();
    }
    ctx.restore();
  });

  function highlight(kind) {
    lit = kind;
    network.redraw();
  }

  function link(parent, href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.target = "_blank";
    a.rel = "noopener";
    parent.append(a, " ");
  }

  function showPanel(work) {
    const panel = $("kg-panel");
    panel.replaceChildren();
    const title = document.createElement("h3");
    title.textContent = work.title;
    const meta = document.createElement("p");
    meta.textContent = `${work.year ?? "no year"} · ${work.authors || "authors unknown"}`;
    const facts = document.createElement("p");
    facts.textContent = [work.feed ? "feed paper" + (work.new ? ", new in the latest run" : "") : "",
                         work.thread ? threadNames.get(work.thread) : "",
                         `cited ${work.cited_by} times`, work.upvotes != null ? `${work.upvotes} upvotes` : "",
                         `cites ${state.highlighted.references.length} and is cited by ` +
                         `${state.highlighted.citing.length} works on the map`].filter(Boolean).join(" · ");
    const links = document.createElement("p");
    links.className = "kg-links";
    link(links, work.id, `OpenAlex ${short(work.id)}`);
    if (work.doi) link(links, work.doi.startsWith("http") ? work.doi : `https://doi.org/${work.doi}`, "DOI");
    if (work.arxiv) {
      link(links, `https://arxiv.org/abs/${work.arxiv}`, "arXiv");
      link(links, `https://huggingface.co/papers/${work.arxiv}`, "Hugging Face");
    }
    panel.append(title, meta, facts, links);
    panel.hidden = false;
  }

  function select(id) {
    const work = works.get(id);
    if (!work) return;
    state.selected = id;
    state.highlighted = {references: references.get(id) || [], citing: citing.get(id) || []};
    const kind = new Map();
    for (const r of state.highlighted.references) kind.set(r, "reference");
    for (const c of state.highlighted.citing) kind.set(c, "citing");
    kind.set(id, "selected");
    highlight(kind);
    showPanel(work);
  }

  function clear() {
    state.selected = null;
    state.highlighted = {references: [], citing: []};
    highlight(new Map(state.matches.map((m) => [m, "match"])));
    $("kg-panel").hidden = true;
  }

  network.on("click", (params) => (params.nodes.length ? select(params.nodes[0]) : clear()));

  // Search by title or author: matches are outlined, the rest faded.
  $("kg-search").addEventListener("input", (event) => {
    const term = event.target.value.trim().toLowerCase();
    state.matches = term.length < 2 ? [] : data.works.filter((w) =>
      w.title.toLowerCase().includes(term) || (w.authors || "").toLowerCase().includes(term)).map((w) => w.id);
    $("kg-matches").textContent = term.length < 2 ? "" : `${state.matches.length} matching works`;
    state.selected = null;
    $("kg-panel").hidden = true;
    highlight(new Map(state.matches.map((m) => [m, "match"])));
  });

  // Thread filter and year range: works outside are hidden.
  function filter() {
    const thread = $("kg-thread").value;
    const from = parseInt($("kg-from").value, 10);
    const to = parseInt($("kg-to").value, 10);
    const hide = (w) => (thread !== "" && w.lane !== thread) ||
                        (!Number.isNaN(from) && (w.year == null || w.year < from)) ||
                        (!Number.isNaN(to) && (w.year == null || w.year > to));
    const now = new Set(data.works.filter(hide).map((w) => w.id));
    const changed = data.works.filter((w) => now.has(w.id) !== hidden.has(w.id));
    hidden = now;
    if (changed.length) nodes.update(changed.map((w) => ({id: w.id, hidden: now.has(w.id)})));
  }
  for (const id of ["kg-thread", "kg-from", "kg-to"]) {
    $(id).addEventListener("input", filter);
    $(id).addEventListener("change", filter);
  }
  for (const t of data.threads) {
    const option = document.createElement("option");
    option.value = t.id;
    option.textContent = `${t.id} ${t.name} (${t.papers} papers)`;
    $("kg-thread").append(option);
  }

  // Links elsewhere in the page ("prior works", "derivative works") open a work on the map.
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-work]");
    if (!target || !works.has(target.dataset.work)) return;
    event.preventDefault();
    $("kg-map-section").scrollIntoView();
    network.focus(target.dataset.work, {scale: 1.0, animation: false});
    select(target.dataset.work);
  });

  network.once("afterDrawing", () => { state.ready = performance.now(); });

  // The co-author network, laid out once it is opened (a force layout, then still).
  let coauthors = null;
  function drawCoauthors() {
    if (coauthors || !data.authors.length) return;
    const people = new vis.DataSet(data.authors.map((a) => ({
      id: a.id, label: a.name, value: a.papers, color: {background: a.colour, border: "#555"},
      title: tooltip(`${a.name}\n${a.institution || "no institution"} · ${a.papers} feed papers`),
    })));
    const ties = new vis.DataSet(data.coauthors.map(([a, b, n], i) => ({id: i, from: a, to: b, value: n,
                                                                          title: tooltip(`${n} shared feed papers`)})));
    coauthors = new vis.Network($("kg-coauthor-map"), {nodes: people, edges: ties}, {
      layout: {randomSeed: 7, improvedLayout: data.authors.length < 150},
      physics: {solver: "forceAtlas2Based", stabilization: {iterations: 250, fit: true}},
      nodes: {shape: "dot", scaling: {min: 6, max: 26, label: {drawThreshold: 7}}, font: {size: 12}},
      edges: {color: "rgba(120,130,140,0.45)", scaling: {min: 0.5, max: 5}, smooth: false},
      interaction: {hover: true, tooltipDelay: 100},
    });
    coauthors.once("stabilizationIterationsDone", () => coauthors.setOptions({physics: false}));
    window.kgMap.coauthors = coauthors;
  }
  const coauthorSection = $("kg-coauthors"); // absent when no feed paper has authors
  if (coauthorSection) coauthorSection.addEventListener("toggle", (event) => { if (event.target.open) drawCoauthors(); });

  window.kgMap = {
    network, nodes, edges, state, select, clear,
    lit: () => Object.fromEntries(lit),
    visible: () => nodes.get({filter: (n) => !n.hidden}).length,
    drawCoauthors,
  };
})();
