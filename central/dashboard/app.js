// The dashboard: plain modules served by the central Worker as static assets, talking to the
// same /v1 API as the CLI with the session cookie (no build step, no framework: the page is a
// few views over JSON). This module signs in and out, keeps one live event stream and routes
// between the views (views/*.js); each view draws itself and returns how it takes live events.

import { ApiError, api, can, SESSION_ENDED, session } from "./lib/api.js";
import { isShown, nextView, render, showError } from "./lib/dom.js";
import { auditView, keysView } from "./views/admin.js";
import { fleetView } from "./views/fleet.js";
import { gatewayView } from "./views/gateway.js";
import { planView } from "./views/plan.js";
import { plansView } from "./views/plans.js";
import { runView } from "./views/run.js";
import { runsView } from "./views/runs.js";

let stream = null;
/** The current view's handler for live events, or null. */
let onEvent = null;

const signInForm = document.getElementById("sign-in");

function showSignIn(message = "") {
  session.me = null;
  stream?.close();
  stream = null;
  onEvent = null;
  nextView();
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  signInForm.hidden = false;
  signInForm.querySelector("#sign-in-error").textContent = message;
  render(signInForm);
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("key");
  const key = input.value.trim();
  input.value = "";
  try {
    session.me = await api("POST", "/v1/session", undefined, { authorization: `Bearer ${key}` });
    start();
  } catch (error) {
    signInForm.querySelector("#sign-in-error").textContent = error.message;
  }
}

async function signOut() {
  await api("DELETE", "/v1/session").catch(() => null);
  showSignIn();
}

function start() {
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = `${session.me.tenant} · ${session.me.role}`;
  for (const link of document.querySelectorAll("nav a[data-role]"))
    link.hidden = !can(link.dataset.role.split(","));
  follow();
  route();
}

/** How long a stream central refused stays closed, while the session holds, before another. */
const REOPEN_MS = 5_000;

/**
 * One live stream of the tenant's events for the whole page; the current view takes them.
 * `after`: the last cursor an earlier stream delivered, so a new one misses nothing since.
 */
function follow(after) {
  stream?.close();
  const source = new EventSource(
    after === undefined ? "/v1/events/stream" : `/v1/events/stream?after=${after}`,
  );
  stream = source;
  let last = after;
  const live = document.getElementById("live");
  source.onopen = () => {
    live.textContent = "live";
  };
  source.onerror = () => {
    if (source.readyState !== EventSource.CLOSED) {
      live.textContent = "reconnecting…";
      return;
    }
    // The browser gives up for good on a stream refused (401 once the session ran out or its
    // key was revoked) without saying why: the session's own answer tells.
    live.textContent = "offline";
    api("GET", "/v1/session").then(
      () => reopen(source, last),
      (error) => {
        if (stream !== source) return;
        if (error instanceof ApiError && error.status === 401)
          window.dispatchEvent(new CustomEvent(SESSION_ENDED));
        else reopen(source, last);
      },
    );
  };
  source.addEventListener("event", (message) => {
    last = message.lastEventId;
    onEvent?.(JSON.parse(message.data));
  });
}

function reopen(source, after) {
  setTimeout(() => {
    if (stream === source) follow(after);
  }, REOPEN_MS);
}

function viewFor(parts, params) {
  if (parts[0] === "runs" && parts[1]) return () => runView(parts[1]);
  if (parts[0] === "runs") return () => runsView(params);
  if (parts[0] === "plans" && parts[1]) return () => planView(parts[1]);
  if (parts[0] === "plans") return plansView;
  if (parts[0] === "gateway") return gatewayView;
  if (parts[0] === "keys") return keysView;
  if (parts[0] === "audit") return auditView;
  return fleetView;
}

async function route() {
  if (!session.me) return;
  const [path, search] = location.hash.slice(1).split("?");
  const parts = (path || "/fleet").split("/").filter(Boolean);
  for (const link of document.querySelectorAll("nav a"))
    link.classList.toggle("active", link.getAttribute("href") === `#/${parts[0]}`);
  onEvent = null;
  const view = nextView();
  try {
    const handler = await viewFor(parts, new URLSearchParams(search ?? ""))();
    // The user may have moved on while this view loaded: its handler must not take over.
    if (isShown(view)) onEvent = handler;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    showError(error);
  }
}

signInForm.addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
window.addEventListener(SESSION_ENDED, () => showSignIn("Your session ended: sign in again."));
api("GET", "/v1/session")
  .then((me) => {
    session.me = me;
    start();
  })
  .catch(() => showSignIn());
