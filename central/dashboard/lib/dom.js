// Building the page from API values: every value is set as text, never as HTML.

/** Builds an element: attributes (`on*` as listeners) and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return el;
}

export function statusOf(value) {
  return h("span", { class: `status ${value}` }, value);
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "-";
}

export function usd(value) {
  return value === null || value === undefined ? "-" : `$${Number(value).toFixed(4)}`;
}

export function table(headers, rows, empty) {
  if (rows.length === 0) return h("p", {}, empty);
  return h(
    "div",
    { class: "table" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((x) => h("th", {}, x)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

/** Replaces the main view's content. */
export function render(...children) {
  document
    .getElementById("view")
    .replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function showError(error) {
  render(h("p", { class: "error", role: "alert" }, error.message));
}

let shown = 0;

/** Starts a new view and returns its number: redraws scheduled for the one before are dropped. */
export function nextView() {
  shown += 1;
  return shown;
}

export function isShown(view) {
  return view === shown;
}

/**
 * Re-draws the current view at most twice a second while events arrive; a redraw still pending
 * when the user moves to another view is dropped rather than drawn over it.
 */
export function throttled(draw) {
  const view = shown;
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      if (view === shown) draw().catch(showError);
    }, 500);
  };
}
