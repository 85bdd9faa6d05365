// The reading page's keys and in-place actions (papertrail.browse.page). Without this
// script every action is a plain form POST; with it the same forms are sent with fetch
// and the card is swapped in place. No external request, no eval, no inline handler.
(() => {
  "use strict";
  const undos = [];
  const token = document.querySelector('meta[name="csrftoken"]')?.content ?? "";
  const flash = document.getElementById("flash");
  let current = -1;

  const cards = () => Array.from(document.querySelectorAll("article.card"));

  function say(message, isError, undo) {
    if (!flash) return;
    flash.hidden = false;
    flash.classList.toggle("error", !!isError);
    flash.replaceChildren();
    const msg = document.createElement("span");
    msg.className = "msg";
    msg.textContent = message;
    flash.append(msg);
    if (undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Undo (u)";
      button.addEventListener("click", undoLast);
      flash.append(button);
    }
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { flash.hidden = true; }, 6000);
  }

  function select(index) {
    const all = cards();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((c, i) => c.classList.toggle("current", i === current));
    all[current].focus({ preventScroll: true });
    all[current].scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function currentCard() {
    const all = cards();
    if (current < 0 || current >= all.length) {
      const focused = document.activeElement?.closest?.("article.card");
      current = focused ? all.indexOf(focused) : 0;
    }
    return all[current];
  }

  async function send(fields, isUndo) {
    const body = new URLSearchParams(fields);
    if (!body.get("csrftoken")) body.set("csrftoken", token);
    let answer;
    try {
      const response = await fetch("/-/papers/act", {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "x-csrftoken": token },
      });
      answer = await response.json().catch(() => ({ ok: false, error: `${response.status} ${response.statusText}` }));
    } catch (error) {
      answer = { ok: false, error: String(error) };
    }
    if (!answer.ok) {
      say(`Could not do that: ${answer.error}`, true);
      return;
    }
    const old = document.getElementById(`e${body.get("entry")}`);
    if (old && answer.card) {
      const wasCurrent = old.classList.contains("current");
      const holder = document.createElement("template");
      holder.innerHTML = answer.card.trim();  // server-rendered, escaped by Jinja
      const fresh = holder.content.firstElementChild;
      old.replaceWith(fresh);
      if (wasCurrent) { fresh.classList.add("current"); fresh.focus({ preventScroll: true }); }
    }
    if (answer.undo && !isUndo) undos.push(answer.undo);
    fillWhys();
    say(answer.message, false, !isUndo && !!answer.undo);
    document.body.dataset.lastAction = `${body.get("action")}:${body.get("entry")}`;
  }

  function undoLast() {
    const undo = undos.pop();
    if (!undo) { say("Nothing to undo"); return; }
    send({ action: undo.action, entry: String(undo.entry), arg: undo.arg, next: location.pathname }, true);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form.act, form.undo-form")) return;
    event.preventDefault();
    const data = new FormData(form, event.submitter);
    const fields = Object.fromEntries(data.entries());
    if (form.matches(".tag-form, .note-form")) form.reset();
    send(fields, form.matches(".undo-form"));
  });

  function press(card, key) {
    const button = card?.querySelector(`form.act button[data-key="${key}"]`);
    if (button) button.click();
  }

  function openField(card, which) {
    if (!card) return;
    const details = card.querySelector("details.more");
    if (details) details.open = true;
    card.querySelector(`.${which}-form input[name=arg]`)?.focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) {
      if (event.key === "Escape") { target.blur(); currentCard()?.focus(); }
      return;
    }
    const card = () => currentCard();
    const keys = {
      j: () => {
        const older = document.querySelector("nav.pager.older a");
        if (current >= cards().length - 1 && older) appendPage(older).then(() => select(current + 1));
        else select(current + 1);
      },
      k: () => select(current - 1),
      s: () => press(card(), "s"),
      r: () => press(card(), "r"),
      x: () => press(card(), "x"),
      t: () => openField(card(), "tag"),
      n: () => openField(card(), "note"),
      o: () => { const href = card()?.dataset.href; if (href) window.open(href, "_blank", "noopener"); },
      u: () => undoLast(),
      "/": () => document.querySelector(".search input")?.focus(),
    };
    const act = keys[event.key];
    if (!act) return;
    event.preventDefault();
    act();
  });

  // Cards the server had no time to explain: ask for their whys, a batch at a time.
  async function fillWhys() {
    for (let round = 0; round < 50; round++) {
      const pending = Array.from(document.querySelectorAll("a.why-pending"));
      if (!pending.length) return;
      const ids = pending.slice(0, 40).map((a) => a.dataset.id);
      let found;
      try {
        const response = await fetch(`/-/papers/why?ids=${ids.join(",")}`, { credentials: "same-origin" });
        found = await response.json();
      } catch (error) {
        return;
      }
      if (!Object.keys(found).length) return;
      for (const link of pending) {
        const text = found[link.dataset.id];
        if (text === undefined) continue;
        const span = document.createElement("span");
        span.className = "why";
        span.textContent = text;
        link.replaceWith(span);
      }
    }
  }
  fillWhys();

  // A page scored while a refit was under way says so (#reranking); ask the server
  // until the refit is over, then say the new order is ready (never reorder under
  // the reader's eyes: the link shows it).
  async function watchRanking(tries) {
    const note = document.getElementById("reranking");
    if (!note || tries <= 0) return;
    try {
      const response = await fetch("/-/papers/ranking", { credentials: "same-origin" });
      if (response.ok && !(await response.json()).busy) {
        note.classList.add("ready");
        note.firstChild.textContent = "The new order is ready. ";
        return;
      }
    } catch (error) { /* the server went away: the link still works */ }
    setTimeout(() => watchRanking(tries - 1), 400);
  }
  watchRanking(150);

  document.addEventListener("click", (event) => {
    const card = event.target.closest?.("article.card");
    if (card) current = cards().indexOf(card);
    const more = event.target.closest?.("a[data-append]");
    if (more && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
      event.preventDefault();
      appendPage(more);
    }
  });

  // "Older →", "More results →", "N more in cs.LG →": without this script a plain link
  // to the next page; with it, that page's cards are appended in place (keys go on
  // across them), the link moves on, and the address becomes the page last appended,
  // so a reload or Back shows where you were.
  async function appendPage(link) {
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    const url = link.href;
    let doc;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
      doc = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      link.removeAttribute("aria-busy");
      say(`Could not load more: ${error}`, true);
      return;
    }
    const nav = link.closest("nav.pager");
    const group = link.closest("section.group");  // Today: a domain's own "N more" link
    const parent = group ?? Array.from(document.querySelectorAll("main section.group")).pop();
    let added = 0;
    for (const card of doc.querySelectorAll("main article.card")) {
      if (!parent || document.getElementById(card.id)) continue;  // shown already
      parent.insertBefore(document.adoptNode(card), group ? nav : null);
      added++;
    }
    const next = doc.querySelector("main nav.pager.older a");
    if (next) {
      link.href = next.getAttribute("href");
      link.textContent = next.textContent;
      link.removeAttribute("aria-busy");
    } else {
      nav.remove();
    }
    if (link.hasAttribute("data-history")) {
      // A reload shows that page alone, from its top: not at this long page's offset.
      history.scrollRestoration = "manual";
      history.replaceState(history.state, "", url);
    }
    say(added ? `${added} more shown` : "Nothing more");
    document.body.dataset.appended = String(Number(document.body.dataset.appended || 0) + added);
    fillWhys();
  }
})();
