// Switchboard's web UI script: calls to /api/v1 with the session's CSRF token, live updates
// from /api/v1/events, SLA countdowns, and keyboard navigation. Served from the binary; it
// loads nothing from anywhere else.
"use strict";

(function () {
  const csrf = () => {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  };

  async function api(method, url, body) {
    const init = {
      method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      return { ok: false, status: 0, json: { code: "network", detail: "the server could not be reached" } };
    }
    let json = null;
    const text = await res.text();
    if (text) {
      try { json = JSON.parse(text); } catch (e) { json = { detail: text }; }
    }
    return { ok: res.ok, status: res.status, json };
  }

  function problemText(r) {
    const j = r.json || {};
    const code = j.code ? j.code + ": " : "";
    return code + (j.detail || j.title || "request failed (" + r.status + ")");
  }

  function show(el, text) {
    if (el) { el.textContent = text || ""; }
  }

  function toast(text) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    t.classList.add("on");
    setTimeout(() => t.classList.remove("on"), 3000);
  }

  // ---- sign in and out -------------------------------------------------------------------
  function setupLogin() {
    const form = document.getElementById("login-form");
    if (!form) return;
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const err = document.getElementById("login-error");
      show(err, "");
      const r = await api("POST", "/api/v1/session", {
        login: form.elements.login.value,
        password: form.elements.password.value,
      });
      if (!r.ok) { show(err, problemText(r)); return; }
      const next = form.dataset.next || "/ui/inbox";
      window.location.assign(next.startsWith("/ui/") && !next.startsWith("//") ? next : "/ui/inbox");
    });
  }

  function setupLogout() {
    const b = document.getElementById("logout");
    if (!b) return;
    b.addEventListener("click", async () => {
      await api("DELETE", "/api/v1/session");
      window.location.assign("/ui/login");
    });
  }

  // ---- SLA countdowns --------------------------------------------------------------------
  function span(ms) {
    const s = Math.floor(Math.abs(ms) / 1000);
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    const two = (n) => (n < 10 ? "0" : "") + n;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + two(m) + "m";
    if (m > 0) return m + "m " + two(sec) + "s";
    return sec + "s";
  }

  function tickClocks() {
    const now = Date.now();
    document.querySelectorAll(".sla[data-due]").forEach((el) => {
      const due = Number(el.dataset.due);
      const warn = el.dataset.warn ? Number(el.dataset.warn) : null;
      let state;
      if (now >= due) state = "breached";
      else if (warn === null) state = el.dataset.state === "warning" ? "warning" : "on_track";
      else state = now >= warn ? "warning" : "on_track";
      const text = el.querySelector(".sla-text");
      if (state === "breached") {
        if (text) text.textContent = "breached";
      } else if (text) {
        text.textContent = span(due - now) + " left";
      }
      if (el.dataset.state !== state) {
        el.classList.remove("sla-" + el.dataset.state);
        el.classList.add("sla-" + state);
        el.dataset.state = state;
      }
    });
  }

  // ---- live events -----------------------------------------------------------------------
  let source = null;
  function events(handlers) {
    if (!window.EventSource) return;
    if (!source) {
      source = new EventSource("/api/v1/events");
      const live = document.getElementById("live");
      source.onopen = () => live && live.classList.add("on");
      source.onerror = () => live && live.classList.remove("on");
    }
    Object.keys(handlers).forEach((name) => {
      source.addEventListener(name, (ev) => {
        let data = {};
        try { data = JSON.parse(ev.data); } catch (e) { return; }
        handlers[name](data);
      });
    });
  }

  function debounce(fn, ms) {
    let t = null;
    return () => {
      if (t) return;
      t = setTimeout(() => { t = null; fn(); }, ms);
    };
  }

  // ---- inbox -----------------------------------------------------------------------------
  function rows() {
    return Array.from(document.querySelectorAll("#inbox-rows tr.case-row"));
  }

  function select(i) {
    const all = rows();
    if (all.length === 0) return;
    const n = Math.max(0, Math.min(all.length - 1, i));
    all.forEach((r) => r.classList.remove("selected"));
    all[n].classList.add("selected");
    all[n].focus({ preventScroll: true });
    all[n].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() {
    return rows().findIndex((r) => r.classList.contains("selected"));
  }

  function setupInbox() {
    const table = document.getElementById("inbox");
    if (!table) return;
    const body = document.getElementById("inbox-rows");
    const query = table.dataset.query || "";
    const refresh = debounce(async () => {
      const before = new Set(rows().map((r) => r.dataset.id));
      const chosen = rows()[selectedIndex()];
      const chosenId = chosen ? chosen.dataset.id : null;
      const res = await fetch("/ui/inbox/rows" + (query ? "?" + query : ""), { credentials: "same-origin" });
      // A session that ended redirects to the sign-in page: keep the rows as they are.
      if (!res.ok || res.redirected) return;
      body.innerHTML = await res.text();
      let arrived = 0;
      rows().forEach((r, i) => {
        if (!before.has(r.dataset.id)) { r.classList.add("arrived"); arrived += 1; }
        if (r.dataset.id === chosenId) r.classList.add("selected");
      });
      const empty = document.querySelector("p.empty");
      if (empty && rows().length > 0) empty.remove();
      if (arrived > 0) toast(arrived === 1 ? "A new case arrived" : arrived + " new cases arrived");
      tickClocks();
    }, 500);
    events({ "case.opened": refresh, "case.updated": refresh });
    body.addEventListener("click", (ev) => {
      const tr = ev.target.closest("tr.case-row");
      if (tr && ev.target.tagName !== "A") window.location.assign(tr.dataset.href);
    });
    document.querySelectorAll("#filters select").forEach((s) =>
      s.addEventListener("change", () => document.getElementById("filters").submit()));
  }

  // Saved views: named filter sets stored on the server (/api/v1/views); the page lists them.
  function setupSavedViews() {
    const holder = document.getElementById("saved-views");
    const form = document.getElementById("save-view");
    if (!holder || !form) return;
    const filters = () => {
      const params = new URLSearchParams(window.location.search);
      const out = {};
      params.forEach((value, key) => {
        if (key !== "cursor" && value.trim() !== "") out[key] = value;
      });
      return out;
    };
    holder.querySelectorAll("button.forget").forEach((x) =>
      x.addEventListener("click", async () => {
        const r = await api("DELETE", "/api/v1/views/" + encodeURIComponent(x.dataset.view));
        if (!r.ok) { toast(problemText(r)); return; }
        window.location.reload();
      }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = document.getElementById("save-view-name").value.trim();
      if (!name) { toast("Give the view a name"); return; }
      const f = filters();
      if (Object.keys(f).length === 0) f.view = "all";
      const shared = document.getElementById("save-view-shared").checked;
      const r = await api("POST", "/api/v1/views", { name, filters: f, shared });
      if (!r.ok) { toast(problemText(r)); return; }
      window.location.reload();
    });
  }

  // ---- case ------------------------------------------------------------------------------
  function variables(text) {
    const out = {};
    (text || "").split("\n").forEach((line) => {
      const i = line.indexOf("=");
      if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    });
    return out;
  }

  function setupCase() {
    const article = document.querySelector("article.case");
    if (!article) return;
    const id = article.dataset.case;
    const base = "/api/v1/cases/" + encodeURIComponent(id);
    let rendered = null;

    const form = document.getElementById("reply-form");
    if (form) {
      const text = document.getElementById("reply-text");
      const err = document.getElementById("reply-error");
      const result = document.getElementById("reply-result");
      document.getElementById("tpl-insert").addEventListener("click", async () => {
        show(err, "");
        const key = document.getElementById("tpl-key").value;
        if (!key) { show(err, "choose a template first"); return; }
        const vars = variables(document.getElementById("tpl-vars").value);
        const r = await api("POST", base + "/render", { template: key, variables: vars });
        if (!r.ok) { show(err, problemText(r)); return; }
        text.value = r.json.text;
        rendered = { text: r.json.text, choice: { key, variables: vars, locale: r.json.locale, tone: r.json.tone } };
        text.focus();
      });
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        show(err, ""); show(result, "");
        const visibility = form.querySelector('input[name="visibility"]:checked');
        const body = { visibility: visibility ? visibility.value : undefined };
        const op = form.querySelector('input[name="operational_update"]');
        if (op && op.checked) body.operational_update = true;
        if (rendered && rendered.text === text.value) body.template = rendered.choice;
        else body.text = text.value;
        const r = await api("POST", base + "/replies", body);
        if (!r.ok) { show(err, problemText(r)); return; }
        const status = r.json.status || "queued";
        let msg = status === "pending_approval" ? "Waiting for approval" : "Reply queued for sending";
        (r.json.requirements || []).forEach((q) => { msg += " · needs " + (q.approver || "approval") + ": " + (q.reason || ""); });
        (r.json.warnings || []).forEach((w) => { msg += " · warning: " + w.detail; });
        show(result, msg);
        text.value = ""; rendered = null;
        setTimeout(() => window.location.reload(), 1200);
      });
    }

    const note = document.getElementById("note-form");
    if (note) {
      note.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const r = await api("POST", base + "/notes", { text: document.getElementById("note-text").value });
        if (!r.ok) { show(document.getElementById("note-error"), problemText(r)); return; }
        window.location.reload();
      });
    }

    // An agent's correction of what the product read in a message: kept as a training example.
    document.querySelectorAll("select[data-label-task]").forEach((sel) => {
      sel.addEventListener("change", async () => {
        const url = "/api/v1/messages/" + encodeURIComponent(sel.dataset.labelMessage) +
          "/labels/" + encodeURIComponent(sel.dataset.labelTask);
        const r = await api("PUT", url, { label: sel.value });
        if (!r.ok) { show(sel.parentElement.querySelector(".label-error"), problemText(r)); return; }
        window.location.reload();
      });
    });

    document.querySelectorAll("select[data-patch]").forEach((sel) => {
      sel.addEventListener("change", async () => {
        const field = sel.dataset.patch;
        const body = {};
        body[field] = sel.value === "" ? null : sel.value;
        if (field !== "assignee" && body[field] === null) return;
        const r = await api("PATCH", base, body);
        if (!r.ok) { show(document.getElementById("controls-error"), problemText(r)); return; }
        window.location.reload();
      });
    });

    const merge = document.getElementById("merge-form");
    if (merge) {
      merge.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const into = document.getElementById("merge-into").value.trim();
        const r = await api("POST", base + "/merge", { into });
        if (!r.ok) { show(document.getElementById("controls-error"), problemText(r)); return; }
        window.location.assign("/ui/cases/" + encodeURIComponent(into));
      });
    }

    document.querySelectorAll("button[data-decision]").forEach((b) => {
      b.addEventListener("click", async () => {
        const r = await api("POST", "/api/v1/replies/" + encodeURIComponent(b.dataset.reply) + "/decision",
          { decision: b.dataset.decision, reason: b.dataset.decision === "reject" ? "Rejected in review" : undefined });
        if (!r.ok) { toast(problemText(r)); return; }
        window.location.reload();
      });
    });

    const list = document.getElementById("suggestions");
    if (list) {
      api("GET", base + "/suggestions").then((r) => {
        list.textContent = "";
        const items = r.ok ? (Array.isArray(r.json) ? r.json : (r.json.items || r.json.suggestions || [])) : [];
        if (!r.ok || items.length === 0) {
          const li = document.createElement("li");
          li.className = "muted";
          li.textContent = r.ok ? "No suggestions" : problemText(r);
          list.appendChild(li);
          return;
        }
        items.slice(0, 5).forEach((s) => {
          const li = document.createElement("li");
          const p = document.createElement("p");
          p.textContent = s.text || "";
          const use = document.createElement("button");
          use.type = "button";
          use.textContent = "Use";
          use.addEventListener("click", () => {
            const t = document.getElementById("reply-text");
            if (t) { t.value = s.text || ""; t.focus(); }
          });
          li.appendChild(p);
          li.appendChild(use);
          list.appendChild(li);
        });
      });
    }

    const panel = () => document.getElementById("sla-panel");
    const refreshSla = debounce(async () => {
      const res = await fetch("/ui/cases/" + encodeURIComponent(id) + "/sla", { credentials: "same-origin" });
      if (!res.ok || res.redirected || !panel()) return;
      panel().outerHTML = await res.text();
      tickClocks();
    }, 300);
    events({ "case.updated": (d) => { if (d.case_id === id) refreshSla(); } });
  }

  // ---- alerts ----------------------------------------------------------------------------
  function setupAlerts() {
    const body = document.getElementById("alert-rows");
    if (!body) return;
    events({
      "alert.raised": (a) => {
        const tr = document.createElement("tr");
        tr.className = "arrived";
        [new Date().toISOString().slice(11, 19), a.series, a.kind, "–", Number(a.score).toFixed(2), "–", "–"].forEach((v) => {
          const td = document.createElement("td");
          td.textContent = v;
          tr.appendChild(td);
        });
        body.insertBefore(tr, body.firstChild);
        const none = document.getElementById("no-alerts");
        if (none) none.remove();
        toast("Alert: " + a.series);
      },
    });
  }

  // ---- generic API forms (administration, incidents, connectors) -------------------------
  function formBody(form, urlOverride) {
    const body = {};
    let url = urlOverride || form.dataset.url;
    Array.from(form.elements).forEach((el) => {
      if (!el.name) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      let v = el.value;
      if (el.dataset.path) { url = url.replace("{" + el.name + "}", encodeURIComponent(v)); return; }
      if (v === "") return;
      switch (el.dataset.type) {
        case "number": v = Number(v); break;
        case "list": v = v.split(",").map((x) => x.trim()).filter((x) => x); break;
        case "json": v = JSON.parse(v); break;
        default: break;
      }
      body[el.name] = v;
    });
    return { url, body };
  }

  function setupApiForms() {
    document.querySelectorAll("form.api-form").forEach((form) => {
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const err = form.querySelector(".error");
        const result = form.querySelector(".result");
        show(err, ""); show(result, "");
        // A button may send the same fields elsewhere (e.g. "Check" beside "Save").
        const opts = ev.submitter && ev.submitter.dataset.url ? ev.submitter.dataset : form.dataset;
        if (opts.confirm && !window.confirm(opts.confirm)) return;
        let req;
        try { req = formBody(form, opts.url); } catch (e) { show(err, "invalid_json: " + e.message); return; }
        const method = opts.method || "POST";
        const r = await api(method, req.url, method === "DELETE" ? undefined : req.body);
        if (!r.ok) { show(err, problemText(r)); return; }
        if (opts.show === "key" && r.json) show(result, "New key (shown once): " + r.json.key);
        else if (opts.show === "json") show(result, JSON.stringify(r.json, null, 2));
        else if (opts.go && r.json && r.json.id) window.location.assign(opts.go.replace("{id}", encodeURIComponent(r.json.id)));
        else if (opts.reload) window.location.reload();
        else toast("Saved");
      });
    });
  }

  // ---- keyboard --------------------------------------------------------------------------
  function typing(ev) {
    const t = ev.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  function setupKeys() {
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && typing(ev)) { ev.target.blur(); return; }
      if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const inbox = document.getElementById("inbox-rows");
      if (inbox) {
        if (ev.key === "j" || ev.key === "ArrowDown") { select(selectedIndex() + 1); ev.preventDefault(); return; }
        if (ev.key === "k" || ev.key === "ArrowUp") { select(Math.max(0, selectedIndex() - 1)); ev.preventDefault(); return; }
        if (ev.key === "Enter" || ev.key === "o") {
          const r = rows()[selectedIndex()];
          if (r) { window.location.assign(r.dataset.href); ev.preventDefault(); }
          return;
        }
        if (ev.key === "/") {
          const f = document.querySelector("#filters select");
          if (f) { f.focus(); ev.preventDefault(); }
          return;
        }
      }
      if (ev.key === "r" && document.getElementById("reply-text")) { document.getElementById("reply-text").focus(); ev.preventDefault(); return; }
      if (ev.key === "n" && document.getElementById("note-text")) { document.getElementById("note-text").focus(); ev.preventDefault(); return; }
      if (ev.key === "i" && !inbox) { window.location.assign("/ui/inbox"); }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setupLogin();
    setupLogout();
    setupInbox();
    setupSavedViews();
    setupCase();
    setupAlerts();
    setupApiForms();
    setupKeys();
    tickClocks();
    setInterval(tickClocks, 1000);
  });
})();
