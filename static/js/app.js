// Tasklane's one script: behaviour built on htmx events and the keyboard. No inline scripts
// anywhere (the CSP forbids them), so everything beyond htmx attributes lives here.
//
// List keyboard contract (used by the task list, tags and admin tables):
//   container [data-keynav]; rows with an id: its children matching the selector its
//   data-keynav names (the task list's 50 rows need not each say it), else [data-keynav-row];
//   this script gives them tabindex="-1" and aria-selected where the markup does not;
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

// Registration proposes the browser's time zone (the server keeps it only if it knows it;
// without JavaScript the field stays empty and the account follows the instance's zone).
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-browser-timezone]")) {
    input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  }
});

// ---- List selection -------------------------------------------------------------------

const list = () => document.querySelector("[data-keynav]");
const rowSelector = (container) => container?.dataset.keynav || "[data-keynav-row]";
const rows = (container) => [...container.querySelectorAll(rowSelector(container))];
const isRow = (element) => Boolean(element?.matches?.(rowSelector(list())));
// The list's row holding `element`, if any.
function rowOf(element) {
  const container = list();
  const row = container && element.closest?.(rowSelector(container));
  return row && container.contains(row) ? row : null;
}

// Rows are focusable and selectable where this script runs: the rows that arrive (the page's,
// then each swap's) get tabindex="-1" and aria-selected="false" unless they say otherwise.
function prepareRows(root) {
  const container = list();
  if (!container || !root?.querySelectorAll) return;
  const found = isRow(root) ? [root] : [...root.querySelectorAll(rowSelector(container))];
  for (const row of found) {
    if (!row.hasAttribute("tabindex")) row.tabIndex = -1;
    if (!row.hasAttribute("aria-selected")) row.setAttribute("aria-selected", "false");
  }
}
document.addEventListener("htmx:load", (event) => prepareRows(event.detail.elt));
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
  if (!row.hasAttribute("tabindex")) row.tabIndex = -1;
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
  const row = rowOf(event.target);
  if (row) selectRow(row, { focus: false });
});

// After a swap, put the selection back on the (possibly new) element with the same id.
document.addEventListener("htmx:afterSettle", () => {
  let row = selectedRow();
  if (!row) return;
  if (!isRow(row)) row = neighbourRow(row); // it was deleted
  if (!row) return;
  const hadFocus = document.activeElement === document.body || !document.activeElement;
  selectRow(row, { focus: hadFocus });
});

function neighbourRow(element) {
  for (const step of ["nextElementSibling", "previousElementSibling"]) {
    let sibling = element[step];
    while (sibling && !isRow(sibling)) sibling = sibling[step];
    if (sibling) return sibling;
  }
  return null;
}

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
      const row = selectedRow();
      if (!row || document.activeElement !== row) return false;
      if (openEditor(row)) return true;
      if (!row.dataset.keynavHref) return false;
      window.location.assign(row.dataset.keynavHref);
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

// ---- Task list: editing, toggling, deleting, undo, bulk selection ----------------------

function openEditor(row) {
  const link = row?.querySelector("[data-opens-editor]");
  if (!link) return false;
  link.click();
  return true;
}

function clickIn(row, selector) {
  const element = row?.querySelector(selector);
  if (!element) return false;
  element.click();
  return true;
}

const onSelected = (selector) => () => clickIn(selectedRow(), selector);

// A bare hx-get or hx-post (a task row's Edit link, done box and Delete button) goes where
// the link or button goes without JavaScript: the URL is written once, in href or formaction.
document.addEventListener("htmx:configRequest", (event) => {
  const { elt, verb } = event.detail;
  if (elt.getAttribute(`hx-${verb}`) !== "") return;
  const url = elt.getAttribute("formaction") ?? elt.getAttribute("href");
  if (url) event.detail.path = url;
});

// Search and filters: a query the list already shows is not asked for again (the search box
// fires `change` on the filter form when it loses focus, after its keystrokes already sent
// that query; Enter fires `search`). Their requests push their URL, so the address bar says
// which query the list shows.
function queryKey(params) {
  return [...new Set([...params].map(([name, value]) => `${name}=${value}`))].sort().join("&");
}
document.addEventListener("htmx:configRequest", (event) => {
  const { verb, path, formData, target } = event.detail;
  if (verb !== "get" || target?.id !== "task-results") return;
  if (new URL(path, window.location.href).pathname !== window.location.pathname) return;
  const shown = new URLSearchParams(window.location.search);
  if (queryKey(new URLSearchParams(formData)) === queryKey(shown)) event.preventDefault();
});

// Only one row is edited at a time: opening an editor cancels any other open one.
document.addEventListener("htmx:beforeRequest", (event) => {
  const trigger = event.detail.elt;
  if (!trigger.matches?.("[data-opens-editor]")) return;
  const row = rowOf(trigger);
  for (const other of document.querySelectorAll(".task-row.editing")) {
    if (other !== row) other.querySelector("[data-cancel-edit]")?.click();
  }
});

// In the editor: Escape cancels; Ctrl/Cmd+Enter saves from the notes (Enter adds a line there).
document.addEventListener("keydown", (event) => {
  const editor = event.target.closest?.("[data-editor]");
  if (!editor) return;
  if (event.key === "Escape") {
    event.preventDefault();
    editor.querySelector("[data-cancel-edit]")?.click();
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    editor.requestSubmit();
  }
});

// Quick add: after a task is added the field clears and keeps focus for the next one.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (form.id !== "quick-add" || !event.detail.successful) return;
  form.reset();
  form.querySelector("#new-task")?.focus();
});

// Undo toasts stay at least 10 seconds, longer while pointed at or focused.
const TOAST_MS = 12000;
function scheduleToast(toast) {
  const remove = () => {
    if (toast.matches(":hover, :focus-within")) setTimeout(remove, 2000);
    else toast.remove();
  };
  setTimeout(remove, TOAST_MS);
}
document.addEventListener("htmx:load", (event) => {
  const root = event.detail.elt;
  const toasts = root.matches?.(".toast") ? [root] : [...(root.querySelectorAll?.(".toast") ?? [])];
  toasts.forEach(scheduleToast);
});

function undoLast() {
  const undo = document.querySelector("#toasts [data-undo]");
  if (!undo) return false;
  undo.click();
  return true;
}

// Bulk selection: Shift+j/k extends it, Shift+click selects a range; the bar shows a count.
// A row's select box is found by what it submits: a class would cost every row its bytes.
const BULK_BOX = ".task-row [name=ids]";
let lastChecked = null;
function updateBulkBar() {
  const bar = document.querySelector("[data-bulk-bar]");
  if (!bar) return;
  const count = document.querySelectorAll(`${BULK_BOX}:checked`).length;
  bar.classList.toggle("is-idle", count === 0);
  const label = bar.querySelector("[data-bulk-count]");
  if (label) label.textContent = `${count} selected:`;
}

function extendSelection(delta) {
  const from = selectedRow();
  const box = from?.querySelector(BULK_BOX);
  if (box && !box.checked) box.checked = true;
  moveSelection(delta);
  const to = selectedRow()?.querySelector(BULK_BOX);
  if (to) to.checked = true;
  updateBulkBar();
  return true;
}

document.addEventListener("click", (event) => {
  const box = event.target.closest?.(BULK_BOX);
  if (!box) return;
  if (event.shiftKey && lastChecked && lastChecked !== box && document.contains(lastChecked)) {
    const boxes = [...document.querySelectorAll(BULK_BOX)];
    const [a, b] = [boxes.indexOf(lastChecked), boxes.indexOf(box)].sort((x, y) => x - y);
    boxes.slice(a, b + 1).forEach((b2) => (b2.checked = box.checked));
  }
  lastChecked = box;
  updateBulkBar();
});
document.addEventListener("htmx:afterSettle", updateBulkBar);
document.addEventListener("DOMContentLoaded", updateBulkBar);

// ---- Pickers: "m" moves the selected tasks to a project, "a" assigns them to a member -----
// A dialog you type a name into (templates/_macros/picker.html); it fills the bulk bar's
// action and choice (data-action, data-target) and submits it, so the change is the same
// request as without JavaScript.

function openPicker(dialogId) {
  const dialog = document.getElementById(dialogId);
  if (!dialog) return false;
  const checked = document.querySelectorAll(`${BULK_BOX}:checked`).length;
  const box = selectedRow()?.querySelector(BULK_BOX);
  if (!checked && !box) return false;
  if (!checked) box.checked = true;
  updateBulkBar();
  const field = dialog.querySelector("[data-picker-field]");
  field.value = "";
  dialog.querySelector("[data-picker-error]").textContent = "";
  dialog.showModal();
  field.focus();
  return true;
}

// The choice the typed text names: an exact name (any case), else the only one it starts,
// else the only one it is part of.
function choiceTyped(picker, text) {
  const options = [...picker.querySelectorAll("datalist option")];
  const typed = text.trim().toLowerCase();
  if (!typed) return { error: picker.dataset.empty };
  for (const test of [(n) => n === typed, (n) => n.startsWith(typed), (n) => n.includes(typed)]) {
    const found = options.filter((o) => test(o.value.toLowerCase()));
    if (found.length === 1) return { id: found[0].dataset.choice };
    if (found.length > 1) return { error: picker.dataset.several };
  }
  return { error: picker.dataset.unknown };
}

document.addEventListener("submit", (event) => {
  const picker = event.target.closest?.("[data-picker]");
  if (!picker) return;
  event.preventDefault();
  const dialog = picker.closest("dialog");
  if (event.submitter?.value === "cancel") {
    dialog.close();
    return;
  }
  const { id, error } = choiceTyped(picker, picker.querySelector("[data-picker-field]").value);
  if (error) {
    picker.querySelector("[data-picker-error]").textContent = error;
    return;
  }
  const bulk = document.getElementById("bulk-form");
  bulk.querySelector("#bulk-action").value = picker.dataset.action;
  bulk.querySelector(picker.dataset.target).value = id;
  dialog.close();
  bulk.requestSubmit();
});

// The project list is a menu at phone width: closed until opened (open without JavaScript).
document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(max-width: 760px)").matches) return;
  for (const menu of document.querySelectorAll("[data-menu-at-phone-width]")) menu.open = false;
});

// ---- Help dialog and "g" navigation -----------------------------------------------------

function openHelp() {
  const dialog = document.getElementById("help-dialog");
  if (!dialog) return false;
  if (!dialog.open) dialog.showModal();
  return true;
}
document.addEventListener("click", (event) => {
  const opener = event.target.closest?.("[data-opens-help]");
  if (opener && openHelp()) event.preventDefault();
});

// g t / g u / g m / g l: the views across projects (Today, Upcoming, Assigned to me, All);
// g t was a second way to the Inbox (g i) until the views came, and is Today as in Todoist.
const GO = {
  i: "/tasks",
  t: "/tasks/today",
  u: "/tasks/upcoming",
  m: "/tasks/assigned",
  l: "/tasks/all",
  p: "/projects",
  g: "/tags",
  a: "/account",
};
let pendingG = 0;

keymap.set("m", () => openPicker("move-dialog"));
keymap.set("a", () => openPicker("assign-dialog"));
keymap.set("e", () => openEditor(selectedRow()));
keymap.set("x", onSelected(".done-box"));
keymap.set(" ", onSelected(".done-box"));
keymap.set("Delete", onSelected("[data-deletes]"));
keymap.set("#", onSelected("[data-deletes]"));
keymap.set("u", undoLast);
keymap.set("J", () => extendSelection(1));
keymap.set("K", () => extendSelection(-1));
keymap.set("?", openHelp);
keymap.set("n", () => {
  const field = document.getElementById("new-task");
  if (!field) return false;
  field.focus();
  return true;
});

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target)) return;
  // A focused button or link keeps its own Enter and Space.
  if ((event.key === "Enter" || event.key === " ") && event.target.closest?.("button, a, summary")) {
    return;
  }
  if (pendingG && Date.now() - pendingG < 1500 && GO[event.key]) {
    pendingG = 0;
    event.preventDefault();
    window.location.assign(GO[event.key]);
    return;
  }
  if (event.key === "g") {
    pendingG = Date.now();
    return;
  }
  pendingG = 0;
  const handler = keymap.get(event.key);
  if (handler && handler(event)) event.preventDefault();
});
