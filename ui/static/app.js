() => {
  // The chat's own behaviour, run once on page load. Clicks on our citation buttons and source cards go to
  // Python through the sources panel's `trigger` (set up by its js_on_load as window.qaTrigger).
  if (window.qaReady) return;
  window.qaReady = true;
  const visible = (el) => el && el.offsetParent !== null;
  const send = (data) => window.qaTrigger && window.qaTrigger(data);
  // Our numbers travel as data-* attributes, or as classes (qa-turn-3 qa-n-1) where a sanitizer drops those.
  const num = (el, key) => {
    if (el.dataset[key] !== undefined && el.dataset[key] !== "") return Number(el.dataset[key]);
    const hit = [...el.classList].map((c) => c.match(new RegExp(`^qa-${key}-(\\d+)$`))).find(Boolean);
    return hit ? Number(hit[1]) : null;
  };
  const sheet = (open) => {
    const col = document.getElementById("sources-col");
    if (col) col.classList.toggle("qa-open", open);
  };
  window.qaOpenSheet = () => sheet(true);

  document.addEventListener("click", (e) => {
    const cite = e.target.closest(".qa-cite");
    if (cite) {
      e.preventDefault();
      e.stopPropagation();
      send({action: "cite", turn: num(cite, "turn"), n: num(cite, "n")});
      return;
    }
    if (e.target.closest(".qa-sheet-bar")) {
      const col = document.getElementById("sources-col");
      sheet(!(col && col.classList.contains("qa-open")));
      return;
    }
    const card = e.target.closest(".qa-source[data-n]");
    if (card && num(card, "turn") !== null) {
      send({action: "card", turn: num(card, "turn"), n: num(card, "n")});
    }
  }, true);

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      const close = document.getElementById("viewer-close");
      if (visible(close)) { close.click(); return; }
      const stop = document.getElementById("stop");
      if (visible(stop)) stop.click();
      return;
    }
    const card = e.target.closest && e.target.closest(".qa-source[data-n]");
    if (card && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); card.click(); }
  });
}
