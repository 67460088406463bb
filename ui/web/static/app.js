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

  // A lost server: Gradio shows a toast and reloads the page once the server answers again (the chats are
  // kept in the browser). Meanwhile the pending answer says so and offers Retry, and a toast shown twice
  // (by two events that lost their connection) is shown once.
  const LOST_TOAST = "Connection to the server was lost";
  let lost = false;
  const markLost = () => {
    lost = true;
    document.body.classList.add("qa-lost-server");  // hides Stop: there is nothing left to stop
    document.querySelectorAll("#chat .qa-answer.qa-streaming").forEach((el) => {
      el.className = "qa-answer qa-lost";
      el.innerHTML = '<div class="qa-note">⚠️ The connection to the server was lost before this answer ' +
        'arrived. The page reconnects by itself when the server is back; your conversations are kept. ' +
        '<button type="button" class="qa-retry">Retry</button></div>';
    });
  };
  new MutationObserver(() => {
    const seen = new Set();
    document.querySelectorAll('[data-testid="toast-text"]').forEach((t) => {
      const text = t.textContent.trim(), item = t.closest(".toast-item") || t;
      if (seen.has(text)) item.style.display = "none";
      seen.add(text);
      if (text.startsWith(LOST_TOAST) && !lost) markLost();
    });
  }).observe(document.body, {childList: true, subtree: true});
  const retryLater = () => {  // after the reload, press the restored question's Retry
    sessionStorage.removeItem("qa-retry");
    let tries = 0;
    const timer = setInterval(() => {
      const button = document.querySelector("#chat .qa-retry");
      if (button || ++tries > 100) { clearInterval(timer); if (button) button.click(); }
    }, 200);
  };
  if (sessionStorage.getItem("qa-retry")) retryLater();

  document.addEventListener("click", (e) => {
    const retry = e.target.closest(".qa-retry");
    if (retry) {
      e.preventDefault();
      e.stopPropagation();
      if (lost) {  // asked again once the page has reconnected
        sessionStorage.setItem("qa-retry", "1");
        retry.textContent = "Retrying when the server is back…";
        retry.disabled = true;
      } else {
        const again = document.getElementById("regenerate");
        if (again) again.click();
      }
      return;
    }
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

  // Files dropped on the chat go to the chat box's attach button, which checks, saves and indexes them as the
  // Documents tab does.
  const inChat = (e) => e.target.closest && e.target.closest("#chat-col");
  document.addEventListener("dragover", (e) => {
    if (inChat(e) && e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault();
  });
  document.addEventListener("drop", (e) => {
    if (!inChat(e) || !e.dataTransfer || !e.dataTransfer.files.length) return;
    const button = document.getElementById("attach");  // Gradio's upload button keeps its input beside it
    const input = button && button.parentElement.querySelector("input[type=file]");
    if (!input) return;
    e.preventDefault();
    e.stopPropagation();
    const files = new DataTransfer();
    [...e.dataTransfer.files].forEach((f) => files.items.add(f));
    input.files = files.files;
    input.dispatchEvent(new Event("change", {bubbles: true}));
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
