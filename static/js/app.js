// Tasklane's one script: behaviour built on htmx events. No inline scripts anywhere (the CSP
// forbids them), so everything the pages do beyond htmx attributes lives here.

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
