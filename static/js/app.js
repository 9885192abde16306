// Tasklane's one script: behaviour built on htmx events and the keyboard. No inline scripts
// anywhere (the CSP forbids them), so everything beyond htmx attributes lives here.
//
// List keyboard contract (used by the task list, tags and admin tables):
//   container [data-keynav]; rows [data-keynav-row] with tabindex="-1" and an id;
//   j / ArrowDown, k / ArrowUp move the selection (aria-selected="true", focus follows);
//   Enter follows the selected row's data-keynav-href; "/" focuses [data-keynav-search].
// Keys are ignored while typing in a field or with Ctrl/Alt/Meta held.

const flashes = () => document.getElementById("flashes");

function showFlash(message, category = "error") {
  const region = flashes();
  if (!region) return;
  const p = document.createElement("p");
  p.className = `flash flash-${category}`;
  p.textContent = message;
  region.replaceChildren(p);
}

// htmx swaps 4xx/5xx fragments (see the htmx-config meta); a request that never got an
// answer still needs telling, or the click would look ignored.
document.addEventListener("htmx:sendError", () => {
  showFlash("Tasklane could not be reached. Check your connection and try again.");
});
document.addEventListener("htmx:timeout", () => {
  showFlash("The server took too long to answer. Please try again.");
});

// ---- List selection -------------------------------------------------------------------

const list = () => document.querySelector("[data-keynav]");
const rows = (container) => [...container.querySelectorAll("[data-keynav-row]")];
// The selected row's id, so the selection survives htmx swaps that replace the row.
let selectedId = null;

export function selectedRow() {
  const container = list();
  return container && selectedId ? container.querySelector(`[id="${CSS.escape(selectedId)}"]`) : null;
}

export function selectRow(row, { focus = true } = {}) {
  const container = list();
  if (!container || !row) return;
  for (const r of rows(container)) r.setAttribute("aria-selected", r === row ? "true" : "false");
  selectedId = row.id;
  if (focus) {
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
}

function moveSelection(delta) {
  const container = list();
  if (!container) return false;
  const all = rows(container);
  if (all.length === 0) return false;
  const current = selectedRow();
  let index = current ? all.indexOf(current) + delta : delta > 0 ? 0 : all.length - 1;
  index = Math.max(0, Math.min(all.length - 1, index));
  selectRow(all[index]);
  return true;
}

// Clicking or tabbing into a row selects it, so mouse and keyboard agree.
document.addEventListener("focusin", (event) => {
  const row = event.target.closest?.("[data-keynav-row]");
  if (row && list()?.contains(row)) selectRow(row, { focus: false });
});

// After a swap, put the selection back on the (possibly new) element with the same id.
document.addEventListener("htmx:afterSettle", () => {
  const row = selectedRow();
  if (!row) return;
  const hadFocus = document.activeElement === document.body || !document.activeElement;
  selectRow(row, { focus: hadFocus });
});

// ---- Keys -----------------------------------------------------------------------------

function isTyping(target) {
  return Boolean(
    target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable='true']"),
  );
}

// Page-specific keys register here (key -> handler returning true when it handled it).
export const keymap = new Map([
  ["j", () => moveSelection(1)],
  ["ArrowDown", () => moveSelection(1)],
  ["k", () => moveSelection(-1)],
  ["ArrowUp", () => moveSelection(-1)],
  [
    "Enter",
    () => {
      const href = selectedRow()?.dataset.keynavHref;
      if (!href || document.activeElement !== selectedRow()) return false;
      window.location.assign(href);
      return true;
    },
  ],
  [
    "/",
    () => {
      const search = document.querySelector("[data-keynav-search]");
      if (!search) return false;
      search.focus();
      search.select?.();
      return true;
    },
  ],
]);

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  // A focused button or link keeps its own Enter and Space.
  if ((event.key === "Enter" || event.key === " ") && event.target.closest?.("button, a, summary")) {
    return;
  }
  const handler = keymap.get(event.key);
  if (handler && handler(event)) event.preventDefault();
});
