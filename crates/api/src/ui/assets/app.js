// twinstack web view: a read-only picture of a runtime's dual-stack topology, kept live by the
// server's event stream (a streamed fetch, so the credential travels in the Authorization header
// and never in a URL). No framework, no build step: the page builds one HTML string per update.
"use strict";

(function () {
  const AUTH_KEY = "twinstack.auth";
  const main = document.getElementById("main");
  const live = document.getElementById("live");
  const signout = document.getElementById("signout");

  // ---- credential -------------------------------------------------------------------------
  // `?token=` is taken once, kept for this tab only (sessionStorage), and removed from the
  // address bar and the history entry at once, so it is neither bookmarked nor shared.
  (function takeTokenFromUrl() {
    const params = new URLSearchParams(location.search);
    const token = params.get("token");
    if (token === null) return;
    if (token) sessionStorage.setItem(AUTH_KEY, JSON.stringify({ type: "bearer", token: token }));
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  })();

  function auth() {
    try { return JSON.parse(sessionStorage.getItem(AUTH_KEY) || "null"); } catch (_) { return null; }
  }
  function authHeader(a) {
    if (a.type === "basic") return "Basic " + btoa(unescape(encodeURIComponent(a.user + ":" + a.pass)));
    return "Bearer " + a.token;
  }

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function famOf(ip) { return String(ip).indexOf(":") >= 0 ? "IPv6" : "IPv4"; }
  function fam(f) { return '<span class="fam fam-' + esc(f) + '">' + esc(f) + "</span>"; }
  function addr(ip) {
    const f = famOf(ip);
    return '<div class="ip a-' + f + '"><span class="addr">' + esc(ip) + '</span> <span class="muted">' + f + "</span></div>";
  }
  function hostPort(ip, port) { return (famOf(ip) === "IPv6" ? "[" + ip + "]" : ip) + ":" + port; }

  class HttpError extends Error {
    constructor(status, text) { super(text); this.status = status; }
  }
  async function api(path, opts) {
    const a = auth();
    const r = await fetch(path, Object.assign({ headers: { Authorization: authHeader(a) }, cache: "no-store" }, opts || {}));
    if (!r.ok) {
      let why = r.statusText;
      try { const j = await r.json(); why = j.description || j.message || why; } catch (_) { /* not JSON */ }
      throw new HttpError(r.status, why);
    }
    return r.json();
  }

  // ---- routing ----------------------------------------------------------------------------
  // #/                                         runtimes
  // #/runtimes/RT                              every namespace's topology
  // #/runtimes/RT/namespaces/NS                one namespace's topology
  // #/runtimes/RT/namespaces/NS/services/NAME  the same, with the Service's trace
  function parseRoute() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const r = { view: "runtimes" };
    if (parts[0] === "runtimes" && parts[1]) {
      r.view = "topology";
      r.runtime = parts[1];
      if (parts[2] === "namespaces" && parts[3]) r.namespace = parts[3];
      if (parts[4] === "services" && parts[5]) r.service = parts[5];
    }
    return r;
  }
  function href(rt, ns, svc) {
    let h = "#/runtimes/" + encodeURIComponent(rt);
    if (ns) h += "/namespaces/" + encodeURIComponent(ns);
    if (svc) h += "/services/" + encodeURIComponent(svc);
    return h;
  }

  let route = parseRoute();
  let stream = null; // { key, controller }
  let topo = null;
  let renderTimer = 0;
  let filter = "";

  function setLive(text) { live.textContent = text; }

  function route_() {
    route = parseRoute();
    const a = auth();
    signout.hidden = !a;
    document.getElementById("filterbar").hidden = !a || route.view !== "topology";
    if (!a) { stopStream(); return showLogin(); }
    if (route.view === "runtimes") { stopStream(); return showRuntimes(); }
    const key = route.runtime + "\u0000" + (route.namespace || "");
    if (!stream || stream.key !== key) {
      topo = null;
      main.innerHTML = '<p class="muted">Reading the topology of ' + esc(route.runtime) + "…</p>";
      startStream(key);
    } else {
      scheduleRender(0);
    }
    showTrace();
  }

  // ---- sign in ----------------------------------------------------------------------------
  function showLogin(message) {
    main.innerHTML =
      '<h2>Sign in</h2>' + (message ? '<p class="error" role="alert">' + esc(message) + "</p>" : "") +
      '<form class="card" id="login"><p>A runtime\'s token (from its kubeconfig) shows that runtime; the broker\'s credential shows every runtime.</p>' +
      '<label for="tok">Runtime token</label><input id="tok" name="token" type="password" autocomplete="off">' +
      '<p class="muted">or the broker credential</p>' +
      '<label for="user">Broker user</label><input id="user" name="user" autocomplete="username">' +
      '<label for="pass">Broker password</label><input id="pass" name="pass" type="password" autocomplete="current-password">' +
      '<p><button class="btn" type="submit">Open</button></p></form>';
    document.getElementById("login").addEventListener("submit", (e) => {
      e.preventDefault();
      const f = e.target;
      const a = f.token.value ? { type: "bearer", token: f.token.value.trim() } : { type: "basic", user: f.user.value, pass: f.pass.value };
      sessionStorage.setItem(AUTH_KEY, JSON.stringify(a));
      route_();
    });
    document.getElementById("tok").focus();
  }
  signout.addEventListener("click", () => { sessionStorage.removeItem(AUTH_KEY); stopStream(); location.hash = "#/"; route_(); });

  // ---- runtimes ---------------------------------------------------------------------------
  async function showRuntimes() {
    setLive("");
    let data;
    try { data = await api("/twinstack/v1/ui/runtimes"); } catch (e) {
      if (e.status === 401) { sessionStorage.removeItem(AUTH_KEY); return showLogin("This credential opens no runtime (401 Unauthorized)."); }
      main.innerHTML = '<p class="error" role="alert">' + esc(e.message) + "</p>";
      return;
    }
    let h = '<h2>Runtimes</h2><table class="runtimes"><caption class="muted">' + (data.broker ? "Every runtime (broker credential)" : "The runtime of this token") +
      '</caption><thead><tr><th scope="col">Runtime</th><th scope="col">Plan</th><th scope="col">Provider</th><th scope="col">Region</th><th scope="col">Families</th><th scope="col">State</th><th scope="col">Ranges (nodes · pods · services)</th></tr></thead><tbody>';
    for (const rt of data.runtimes) {
      h += '<tr><td><a href="' + href(rt.name) + '">' + esc(rt.name) + "</a></td><td>" + esc(rt.plan || "—") + "</td><td>" + esc(rt.provider) + "</td><td>" + esc(rt.region) +
        "</td><td>" + rt.families.map(fam).join(" ") + "</td><td>" + esc(rt.state) + "</td><td>" + rangesHtml(rt) + "</td></tr>";
    }
    main.innerHTML = h + "</tbody></table>";
  }
  function rangesHtml(rt) {
    return rt.ranges.map((r) => '<div class="a-' + esc(r.family) + '">' + fam(r.family) + ' <span class="addr">' +
      esc(r.nodes.join(", ")) + " · " + esc(r.pods.join(", ")) + " · " + esc(r.services.join(", ")) + "</span></div>").join("");
  }

  // ---- the live stream --------------------------------------------------------------------
  function stopStream() {
    if (stream) stream.controller.abort();
    stream = null;
  }
  function startStream(key) {
    stopStream();
    const controller = new AbortController();
    const s = { key: key, controller: controller, retry: 500 };
    stream = s;
    const rt = route.runtime, ns = route.namespace;
    const url = "/twinstack/v1/runtimes/" + encodeURIComponent(rt) + "/topology/stream" + (ns ? "?namespace=" + encodeURIComponent(ns) : "");
    (async function run() {
      while (stream === s) {
        try {
          const r = await fetch(url, { headers: { Authorization: authHeader(auth()), Accept: "text/event-stream" }, signal: controller.signal, cache: "no-store" });
          if (r.status === 401) {
            main.innerHTML = '<p class="error" role="alert">401 Unauthorized: this credential does not open runtime ' + esc(rt) + '. <a href="#/">Runtimes</a></p>';
            setLive("");
            stream = null;
            return;
          }
          if (!r.ok) throw new Error("the stream answered " + r.status);
          setLive("Live");
          s.retry = 500;
          await readEvents(r.body.getReader(), (ev, data) => {
            if (stream !== s) return;
            if (ev === "topology") {
              topo = JSON.parse(data);
              scheduleRender(15);
            } else if (ev === "error") {
              setLive("Stream error: " + data);
            }
          });
        } catch (e) {
          if (controller.signal.aborted) return;
          setLive("Reconnecting… (" + e.message + ")");
        }
        if (stream !== s) return;
        // The server ended the stream (restart, timeout): open it again after a pause that
        // grows, so a server that is down is not hammered.
        await new Promise((res) => setTimeout(res, s.retry));
        s.retry = Math.min(s.retry * 2, 10000);
      }
    })();
  }
  // Server-sent events from a byte stream: frames end with a blank line; `event:` and `data:`
  // lines, comments (`:`) ignored.
  async function readEvents(reader, on) {
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let ev = "message", data = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) ev = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) on(ev, data.join("\n"));
      }
    }
  }

  // One render per burst: events that come closer than `delay` apart are drawn once.
  function scheduleRender(delay) {
    if (renderTimer) return;
    renderTimer = setTimeout(() => { renderTimer = 0; render(); }, delay);
  }

  // ---- the topology -----------------------------------------------------------------------
  function render() {
    if (!topo || route.view !== "topology") return;
    const t = topo.topology;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const podsByKey = new Map();
    for (const p of t.pods) podsByKey.set(p.namespace + "/" + p.name, p);
    const rt = t.runtime;
    const needle = filter.toLowerCase();
    const services = needle ? t.services.filter((s) => (s.namespace + "/" + s.name).toLowerCase().includes(needle)) : t.services;
    const warnCount = t.services.reduce((n, s) => n + s.warnings.length, 0);

    const h = [];
    h.push('<h2>Runtime <span class="addr">' + esc(rt.name) + "</span>" + (t.namespace ? ' · namespace <span class="addr">' + esc(t.namespace) + "</span>" : " · every namespace") + "</h2>");
    h.push('<table class="summary"><tbody><tr><th scope="row">Plan</th><td>' + esc(rt.plan || "—") + '</td><th scope="row">Provider</th><td>' + esc(rt.provider) + " " + esc(rt.region) +
      '</td><th scope="row">Families</th><td>' + rt.families.map(fam).join(" ") + '</td><th scope="row">State</th><td>' + esc(rt.state) + '</td></tr><tr><th scope="row">Ranges</th><td colspan="7">' + rangesHtml(rt) + "</td></tr></tbody></table>");
    h.push('<nav class="toolbar" aria-label="Namespaces"><span>Namespace:</span> <a href="' + href(rt.name) + '"' + (t.namespace ? "" : ' aria-current="page"') + ">all</a>");
    for (const ns of t.namespaces) h.push('<a href="' + href(rt.name, ns) + '"' + (ns === t.namespace ? ' aria-current="page"' : "") + ">" + esc(ns) + "</a>");
    h.push("</nav>");
    h.push('<p>' + t.services.length + " Services · " + t.pods.length + " pods · " + t.nodes.length + " nodes · " +
      (warnCount ? '<span class="warn-chip" aria-hidden="true">!</span> ' + warnCount + " warnings" : "no warnings") +
      (topo.topology.dataplane ? "" : ' · <span class="muted">the data plane is off: no frontends, no traces</span>') + "</p>");
    h.push('<section aria-label="Services"><h2>Services: load balancer → Service → EndpointSlices → pods</h2>');
    for (const s of services) h.push(serviceHtml(s, podsByKey, rt.name));
    if (!services.length) h.push('<p class="muted">No Service' + (needle ? " matches the filter" : "") + ".</p>");
    h.push("</section>");
    h.push('<section aria-label="Nodes"><h2>Nodes and their pods</h2><div class="nodes">');
    const byNode = new Map();
    for (const p of t.pods) { const k = p.node || ""; if (!byNode.has(k)) byNode.set(k, []); byNode.get(k).push(p); }
    for (const n of t.nodes) {
      const pods = byNode.get(n.name) || [];
      h.push('<div class="node"><h3><span class="addr">' + esc(n.name) + "</span></h3>" +
        n.addresses.map((a) => { const sp = a.split(" "); return '<div class="ip a-' + famOf(sp[1]) + '"><span class="muted">' + esc(sp[0]) + '</span> <span class="addr">' + esc(sp[1]) + "</span></div>"; }).join("") +
        '<div>podCIDRs: ' + n.podCidrs.map((c) => '<div class="ip a-' + famOf(c) + '"><span class="addr">' + esc(c) + "</span></div>").join("") + "</div>" +
        "<details><summary>" + pods.length + " pods</summary>" + pods.map((p) => '<div class="pod"><span class="addr">' + esc(p.namespace + "/" + p.name) + "</span> " +
          p.ips.map((ip) => '<span class="addr a-' + famOf(ip) + '">' + esc(ip) + "</span>").join(" ") + "</div>").join("") + "</details></div>");
    }
    h.push("</div></section>");

    main.innerHTML = h.join("");
    if (focused) {
      const el = main.querySelector('[data-key="' + CSS.escape(focused) + '"]');
      if (el) el.focus();
    }
    setLive("Live · revision " + topo.revision + " · " + new Date().toLocaleTimeString());
    // What the browser test and the performance figure read: the first topology painted.
    if (!window.__twinstackPainted) {
      window.__twinstackPainted = true;
      requestAnimationFrame(() => performance.mark("topology-painted"));
    }
    window.__twinstackRenders = (window.__twinstackRenders || 0) + 1;
  }

  function serviceHtml(s, podsByKey, rt) {
    const key = s.namespace + "/" + s.name;
    const selected = route.service === s.name && (route.namespace || s.namespace) === s.namespace;
    const h = ['<article class="svc' + (s.warnings.length ? " has-warn" : "") + (selected ? " selected" : "") + '" aria-label="Service ' + esc(key) + '">'];
    // Load balancer and frontends.
    h.push('<div class="col"><h3>Load balancer · frontends</h3>');
    if (s.loadBalancer) {
      for (const hn of s.loadBalancer.hostnames) h.push('<div>hostname <span class="addr">' + esc(hn) + "</span></div>");
      for (const ip of s.loadBalancer.ips) h.push(addr(ip));
      if (s.loadBalancer.pending) h.push('<div class="pending">pending</div>');
    } else {
      h.push('<div class="muted">' + esc(s.type) + " (no load balancer)</div>");
    }
    for (const f of s.frontends) {
      if (f.kind === "clusterip") continue;
      const tr = f.family !== f.backendFamily;
      h.push('<div class="fe a-' + esc(f.family) + (tr ? " translated" : "") + '">' + esc(f.kind) + " " + fam(f.family) + ' <span class="addr">' + esc(hostPort(f.address, f.port)) + "</span>" +
        (tr ? ' <span class="hop-note">⇄ translated to ' + esc(f.backendFamily) + "</span>" : "") + "</div>");
    }
    h.push("</div>");
    // The Service.
    h.push('<div class="col"><h3>Service</h3><button type="button" class="svc-name" data-key="svc:' + esc(key) + '" data-ns="' + esc(s.namespace) + '" data-name="' + esc(s.name) +
      '" aria-label="Trace Service ' + esc(key) + '">' + esc(s.name) + '</button> <span class="muted">' + esc(s.namespace) + "</span>" +
      "<div>" + esc(s.type) + " · " + esc(s.policy) + " · " + s.families.map(fam).join(" ") + (s.externalTrafficPolicy ? " · eTP " + esc(s.externalTrafficPolicy) : "") + "</div>" +
      "<div>cluster IPs:</div>" + s.clusterIps.map(addr).join("") +
      '<div class="muted">' + s.ports.map((p) => esc((p.name ? p.name + " " : "") + p.port + "/" + p.protocol + (p.targetPort ? "→" + p.targetPort : "") + (p.nodePort ? " node " + p.nodePort : ""))).join(", ") + "</div></div>");
    // EndpointSlices per family.
    h.push('<div class="col"><h3>EndpointSlices</h3>');
    if (!s.slices.length) h.push('<div class="muted">none</div>');
    for (const sl of s.slices) {
      h.push('<div class="slice a-' + esc(sl.family) + '">' + fam(sl.family) + ' <span class="addr muted">' + esc(sl.name) + "</span>");
      for (const e of sl.endpoints) h.push('<div><span class="addr">' + esc(e.addresses.join(", ")) + "</span>" + (e.ready ? "" : ' <span class="pending">not ready</span>') + "</div>");
      h.push("</div>");
    }
    h.push("</div>");
    // Pods (both addresses) on nodes.
    h.push('<div class="col"><h3>Pods · nodes</h3>');
    if (!s.pods.length) h.push('<div class="muted">none</div>');
    for (const pk of s.pods) {
      const p = podsByKey.get(pk);
      if (!p) { h.push('<div class="pod addr">' + esc(pk) + "</div>"); continue; }
      h.push('<div class="pod"><span class="addr">' + esc(p.name) + '</span> <span class="muted">on ' + esc(p.node || "—") + (p.injected ? " · sidecar" : "") + "</span>" + p.ips.map(addr).join("") + "</div>");
    }
    h.push("</div>");
    if (s.warnings.length) {
      h.push('<ul class="warnings" aria-label="Warnings of ' + esc(key) + '">');
      for (const w of s.warnings) h.push("<li><b>" + esc(w.kind === "event" ? w.reason : w.kind) + (w.family ? " " + esc(w.family) : "") + "</b> " + esc(w.message) + "</li>");
      h.push("</ul>");
    }
    h.push("</article>");
    return h.join("");
  }

  main.addEventListener("click", (e) => {
    const b = e.target.closest(".svc-name");
    if (!b) return;
    location.hash = href(route.runtime, b.dataset.ns, b.dataset.name);
  });

  // ---- trace ------------------------------------------------------------------------------
  let traceFor = null;
  function showTrace() {
    let panel = document.getElementById("trace");
    if (!route.service || !route.namespace) { if (panel) panel.remove(); traceFor = null; return; }
    const key = route.runtime + "/" + route.namespace + "/" + route.service;
    if (traceFor === key && panel) return;
    traceFor = key;
    if (!panel) {
      panel = document.createElement("section");
      panel.id = "trace";
      panel.setAttribute("aria-label", "Trace");
      main.parentNode.insertBefore(panel, main);
    }
    panel.innerHTML = "<h2>Trace of Service <span class=\"addr\">" + esc(route.namespace + "/" + route.service) + "</span></h2>" +
      '<p><a href="' + href(route.runtime, route.namespace) + '">Close</a> · each family is a real request through the data plane; the answer is the pod\'s.</p>' +
      '<div id="trace-IPv4" class="trace-family"></div><div id="trace-IPv6" class="trace-family"></div>';
    for (const f of ["IPv4", "IPv6"]) runTrace(f, key);
  }
  async function runTrace(family, key) {
    const box = document.getElementById("trace-" + family);
    if (!box) return;
    box.innerHTML = "<h3>" + fam(family) + " client</h3><p class=\"muted\">running…</p>";
    const q = "namespace=" + encodeURIComponent(route.namespace) + "&service=" + encodeURIComponent(route.service) + "&family=" + family;
    let t;
    try { t = await api("/twinstack/v1/runtimes/" + encodeURIComponent(route.runtime) + "/trace?" + q); } catch (e) {
      if (traceFor !== key) return;
      box.innerHTML = "<h3>" + fam(family) + " client</h3><p class=\"muted\">" + esc(e.message) + "</p>";
      return;
    }
    if (traceFor !== key) return;
    const hops = t.hops || [];
    let h = "<h3>" + fam(family) + " client → " + esc(t.frontend.kind) + ' <span class="addr">' + esc(hostPort(t.frontend.address, t.frontend.port)) + "</span>" +
      (t.frontend.hostname ? ' <span class="addr muted">' + esc(t.frontend.hostname) + "</span>" : "") + "</h3>";
    h += '<div class="path">' + pathSvg(hops, family) + "</div>";
    h += '<ol class="hops">' + hops.map((x) => "<li><b>" + esc(x.name) + '</b>: <span class="addr">' + esc(x.src) + "</span> → <span class=\"addr\">" + esc(x.dst) + "</span>" +
      (x.note ? ' <span class="hop-note">' + esc(x.note) + "</span>" : "") + "</li>").join("") + "</ol>";
    h += "<p>" + (t.translated ? '<span class="hop-note">translated</span> · ' : "") + "the pod sees <span class=\"addr\">" + esc(t.seen || "—") + "</span>" +
      (t.mesh ? " · mesh: " + esc(t.mesh) : "") + (t.proxyProtocol ? " · PROXY v2 " + esc(t.proxyProtocol.src) + " → " + esc(t.proxyProtocol.dst) : "") + "</p>";
    h += '<p><button type="button" class="btn" data-family="' + family + '">Run the ' + family + " request again</button></p>";
    h += t.error ? '<p class="error">' + esc(t.error) + "</p>" : '<pre class="answer" aria-label="The answer">' + esc(t.response || "") + "</pre>";
    box.innerHTML = h;
    box.querySelector("button").addEventListener("click", () => runTrace(family, key));
  }
  // The hops as a path: one dot per party, a line per hop (dashed where the family changes),
  // the addresses written beside it. The ordered list below says the same in text.
  function pathSvg(hops, family) {
    if (!hops.length) return "";
    // Monospace at 11px is about 6.7px a character: labels are cut to fit their hop's width
    // (the list below and the aria-label carry them whole).
    const step = 300, w = step * hops.length + 40, hgt = 96;
    const cut = (t) => (t.length > 42 ? t.slice(0, 41) + "…" : t);
    const label = hops.map((x) => x.name + " from " + x.src + " to " + x.dst + (x.note ? " (" + x.note + ")" : "")).join("; ");
    let s = '<svg role="img" width="' + w + '" height="' + hgt + '" viewBox="0 0 ' + w + " " + hgt + '" aria-label="' + esc(family + " path: " + label) + '">';
    hops.forEach((x, i) => {
      const x1 = 20 + i * step, x2 = x1 + step;
      const tf = famOf(x.dst.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""));
      const color = tf === "IPv6" ? "#a04800" : "#0b55a4";
      s += '<line x1="' + x1 + '" y1="40" x2="' + x2 + '" y2="40" stroke="' + color + '" stroke-width="3"' + (tf === "IPv6" ? ' stroke-dasharray="7 4"' : "") + "/>";
      s += '<text x="' + (x1 + 8) + '" y="30">' + esc(cut(x.name)) + "</text>";
      s += '<text x="' + (x1 + 8) + '" y="60">' + esc(cut(x.src)) + "</text>";
      s += '<text x="' + (x1 + 8) + '" y="76">→ ' + esc(cut(x.dst)) + "</text>";
      if (x.note) s += '<text x="' + (x1 + 8) + '" y="92" fill="#a04800">' + esc(cut(x.note)) + "</text>";
      s += '<circle cx="' + x1 + '" cy="40" r="6" fill="#1b1f24"/>';
    });
    s += '<circle cx="' + (20 + hops.length * step) + '" cy="40" r="6" fill="#1b1f24"/></svg>';
    return s;
  }

  // ---- filter -----------------------------------------------------------------------------
  // A filter box outside the re-drawn area keeps its focus and caret across updates.
  (function filterBox() {
    const bar = document.createElement("div");
    bar.className = "toolbar";
    bar.id = "filterbar";
    bar.hidden = true;
    bar.innerHTML = '<label for="filter">Filter Services</label><input id="filter" type="search" placeholder="namespace/name">';
    main.parentNode.insertBefore(bar, main);
    let t = 0;
    bar.querySelector("input").addEventListener("input", (e) => {
      clearTimeout(t);
      t = setTimeout(() => { filter = e.target.value; render(); }, 120);
    });
  })();

  window.addEventListener("hashchange", route_);
  route_();
})();
