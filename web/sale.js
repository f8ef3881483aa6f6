// The sale page: shows one flash sale and lets a signed-in shopper buy one unit.
// It calls the service's HTTP contract (issue 4): GET /api/sales/:id, POST /api/sales/:id/orders,
// GET /api/orders/:id, GET /api/sales/:id/my-order, POST /api/orders/:id/payment. Loaded as a module, so it runs after the document is
// parsed, in strict mode.

const TOKEN_KEY = "seckill.token";
const CURRENCY = "CNY";
// A crowd of pages polls the same sale: each page reads at most about once per POLL_ACTIVE_MS,
// spread by jitter so the reads do not arrive in waves.
const POLL_ACTIVE_MS = 5000;
const POLL_UPCOMING_MS = 30000; // stock cannot change before the start; the countdown flips the page itself
const POLL_MAX_MS = 60000; // back-off ceiling while the service is unreachable
const START_SPREAD_MS = 2000; // pages re-read the sale within this window after the start
const ORDER_POLL_MS = 1000;
const ORDER_POLL_MAX_MS = 8000;
const RETRY_PAUSE_MS = 3000; // rate limited or busy: the button comes back after about this long
const ORDER_ANSWER_MS = 10000; // an order attempt unanswered this long may or may not have taken a unit
const UNKNOWN_OUTCOME_KEY = "seckill.outcome-unknown"; // per tab, so a reload still remembers

const ui = {
  main: document.querySelector("main"),
  name: document.getElementById("item-name"),
  price: document.getElementById("price"),
  countdownLabel: document.getElementById("countdown-label"),
  countdown: document.getElementById("countdown"),
  stock: document.getElementById("stock"),
  stockMeter: document.getElementById("stock-meter"),
  stockText: document.getElementById("stock-text"),
  buy: document.getElementById("buy"),
  message: document.getElementById("message"),
  payment: document.getElementById("payment"),
  payCountdown: document.getElementById("pay-countdown"),
  pay: document.getElementById("pay"),
};

const apiBase = readApiBase();
const saleId = new URLSearchParams(location.search).get("sale");
let fragmentToken = adoptFragmentToken();

let sale = null; // the last GET /api/sales/:id body, with startsAt/endsAt parsed
let saleMissing = !saleId; // no ?sale= in the link, or the service does not know it
let clockSkewMs = 0; // server clock minus local clock, when the service's Date header is readable
let shownPhase = "loading";
let buyState = "ready"; // ready | sending | paused | done
let readFailures = 0;
let pollTimer;
let pollMissedWhileHidden = false;
let unknownOutcomeThisLoad = false; // where sessionStorage is unavailable

function readApiBase() {
  const configured = document.querySelector('meta[name="seckill-api-base"]').content.trim();
  return (configured || location.origin).replace(/\/+$/, "");
}

// The shop's login hands the token over in the fragment (never sent to a server, so never in a log)
// or leaves it in localStorage. A fragment token is kept and then wiped from the address bar, so it
// is not bookmarked, shared or left in the history.
function adoptFragmentToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!token) return null;
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled (private mode): the token still works for this visit.
  }
  history.replaceState(null, "", location.pathname + location.search);
  return token;
}

function buyerToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || fragmentToken;
  } catch {
    return fragmentToken;
  }
}

// A token is <userId>.<expiresAt>.<signature>, expiresAt in epoch seconds: the page can tell when it has run out
// (by the service's clock, once a read has corrected the local one) and stop offering it.
function tokenExpired(token) {
  const expiresAtMs = Number(token.split(".")[1]) * 1000;
  return !(expiresAtMs > now());
}

function forgetToken() {
  fragmentToken = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: nothing was kept.
  }
}

const now = () => Date.now() + clockSkewMs;
const jitter = (ms) => ms * (0.75 + Math.random() * 0.5);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const saleUrl = () => `${apiBase}/api/sales/${encodeURIComponent(saleId)}`;

// The service's own status wins; the clock only moves an upcoming sale to active (and anything to
// ended) between two reads, so every page flips at the start without asking the service.
function phase() {
  if (!sale) return saleMissing ? "missing" : "loading";
  if (sale.status === "sold_out" || sale.status === "ended") return sale.status;
  const t = now();
  if (t >= sale.endsAtMs) return "ended";
  if (sale.status === "upcoming" && t < sale.startsAtMs) return "upcoming";
  return "active";
}

function say(outcome, text, tone = "info") {
  ui.message.dataset.outcome = outcome;
  ui.message.dataset.tone = tone;
  ui.message.textContent = text;
}

function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const hms = [Math.floor((total % 86400) / 3600), Math.floor((total % 3600) / 60), total % 60]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
  return days ? `${days}d ${hms}` : hms;
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function render() {
  const current = phase();
  ui.main.setAttribute("aria-busy", String(current === "loading"));
  if (sale) {
    setText(ui.name, sale.itemName);
    document.title = `${sale.itemName} · Flash sale`;
    ui.price.hidden = typeof sale.priceCents !== "number";
    if (!ui.price.hidden) {
      const format = new Intl.NumberFormat(undefined, { style: "currency", currency: CURRENCY });
      setText(ui.price, format.format(sale.priceCents / 100));
    }
    ui.stock.hidden = false;
    ui.stockMeter.max = sale.stock;
    ui.stockMeter.low = sale.stock * 0.2;
    ui.stockMeter.value = current === "sold_out" ? 0 : sale.remaining;
    setText(ui.stockText, current === "sold_out" ? "None left" : `${sale.remaining} of ${sale.stock} left`);
  }

  const countdown = {
    loading: ["Loading the sale…", ""],
    missing: ["", ""],
    upcoming: ["Starts in", sale && formatDuration(sale.startsAtMs - now())],
    active: ["Ends in", sale && formatDuration(sale.endsAtMs - now())],
    sold_out: ["Sold out: every unit has been taken.", ""],
    ended: ["This sale has ended.", ""],
  }[current];
  setText(ui.countdownLabel, countdown[0]);
  setText(ui.countdown, countdown[1]);

  const label =
    {
      sending: "Sending…",
      done: "Purchased",
    }[buyState] ??
    { upcoming: "Starts soon", sold_out: "Sold out", ended: "Sale ended" }[current] ??
    "Buy now";
  setText(ui.buy, label);
  ui.buy.disabled = current !== "active" || buyState !== "ready";

  if (current !== shownPhase) {
    if (shownPhase === "upcoming" && current === "active") {
      say("started", "The sale has started.");
      schedulePoll(Math.random() * START_SPREAD_MS);
    }
    shownPhase = current;
  }
}

// Ticks on the second boundary so the countdown never skips or repeats a second.
function tick() {
  render();
  renderPayment();
  setTimeout(tick, 1000 - (now() % 1000) + 10);
}

// The Date header is only readable same-origin and has one-second resolution: correct the local
// clock only when it is clearly off.
function noteServerClock(response) {
  const serverTime = Date.parse(response.headers.get("date") ?? "");
  if (Number.isNaN(serverTime)) return;
  const skew = serverTime + 500 - Date.now();
  clockSkewMs = Math.abs(skew) > 1500 ? skew : 0;
}

async function readSale() {
  clearTimeout(pollTimer);
  try {
    const response = await fetch(saleUrl(), { cache: "no-store" });
    if (response.status === 404) {
      saleMissing = true;
      setText(ui.name, "Sale not found");
      say("unknown_sale", "This sale does not exist. Please check the link from the shop.", "bad");
      render();
      return;
    }
    if (!response.ok) throw new Error(`GET sale answered ${response.status}`);
    noteServerClock(response);
    const body = await response.json();
    sale = { ...body, startsAtMs: Date.parse(body.startsAt), endsAtMs: Date.parse(body.endsAt) };
    readFailures = 0;
  } catch {
    readFailures += 1;
    if (!sale) say("unavailable", "Cannot reach the shop right now. Retrying…", "warn");
  }
  render();
  const current = phase();
  if (current === "sold_out" || current === "ended") return; // units never come back
  const interval = current === "upcoming" ? POLL_UPCOMING_MS : POLL_ACTIVE_MS;
  schedulePoll(jitter(Math.min(interval * 2 ** readFailures, POLL_MAX_MS)));
}

function schedulePoll(delayMs) {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(() => {
    if (document.hidden)
      pollMissedWhileHidden = true; // a hidden tab adds nothing to the crowd
    else readSale();
  }, delayMs);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && pollMissedWhileHidden) {
    pollMissedWhileHidden = false;
    readSale();
  }
});

// An order attempt whose answer never came, or did not say what happened, may have taken a unit. Until the
// page knows, it is remembered (in this tab, across reloads), because a 410 only says the sale has no units
// left: it is no answer to "do I hold one?".
function outcomeUnknown() {
  try {
    return sessionStorage.getItem(UNKNOWN_OUTCOME_KEY) === saleId;
  } catch {
    return unknownOutcomeThisLoad;
  }
}

function rememberOutcomeUnknown(unknown) {
  unknownOutcomeThisLoad = unknown;
  try {
    if (unknown) sessionStorage.setItem(UNKNOWN_OUTCOME_KEY, saleId);
    else sessionStorage.removeItem(UNKNOWN_OUTCOME_KEY);
  } catch {
    // Storage disabled: remembered for this page load only.
  }
}

function saysNothingAboutTheAttempt(response, body) {
  // No answer at all; the service's own outcome_unknown; or the load balancer's word that the connection to
  // the service broke (502) or timed out (504), after the service may have acted.
  return !response || body.error === "outcome_unknown" || response.status === 502 || response.status === 504;
}

function pauseBuying(outcome, text) {
  say(outcome, text, "warn");
  buyState = "paused";
  setTimeout(() => {
    buyState = "ready";
    render();
  }, jitter(RETRY_PAUSE_MS));
}

async function postOrder(token) {
  try {
    const response = await fetch(`${saleUrl()}/orders`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(ORDER_ANSWER_MS),
    });
    return { response, body: await response.json().catch(() => ({})) };
  } catch {
    return { response: null, body: {} };
  }
}

function checking() {
  say("checking", "No clear answer from the shop yet: checking whether your order went through…", "warn");
}

async function buy() {
  const token = buyerToken();
  if (!token) {
    say("unauthorized", "Please sign in to the shop first, then open this page again.", "bad");
    return;
  }
  if (tokenExpired(token)) {
    forgetToken();
    say("sign_in_expired", "Your sign-in has expired. Please sign in to the shop again, then reopen this page.", "bad");
    return;
  }
  buyState = "sending";
  render();
  // After an unknown outcome the page tries again by itself: a second attempt never takes a second unit, and
  // it ends in 202, in 409 with the order the first one took, or in a 410 the page then checks.
  for (let delay = ORDER_POLL_MS; ; delay = Math.min(delay * 2, ORDER_POLL_MAX_MS)) {
    const { response, body } = await postOrder(token);
    if (saysNothingAboutTheAttempt(response, body)) rememberOutcomeUnknown(true);
    // While an earlier outcome is unknown, "try later" is no answer either: keep trying.
    else if (!outcomeUnknown() || !tryLater(response)) return settle(response, body, token);
    checking();
    await sleep(jitter(delay));
  }
}

const tryLater = (response) => response.status === 429 || response.status === 503;

async function settle(response, body, token) {
  buyState = "ready";
  if (response.status === 202) {
    sale.remaining = Math.max(0, sale.remaining - 1); // the next read brings the exact count
    holdUnit(body.orderId, "pending", token);
  } else if (body.error === "already_purchased" && outcomeUnknown()) {
    holdUnit(body.orderId, "pending", token); // the attempt whose answer was lost took it
  } else if (body.error === "already_purchased") {
    buyState = "done";
    say("already_purchased", "Already purchased: you have an order for this sale (one per customer).", "warn");
  } else if (body.error === "sold_out" || body.error === "ended") {
    sale.status = body.error;
    if (outcomeUnknown()) await resolveUnknownOutcome(token);
    else sayClosed();
  } else if (body.error === "not_started") {
    say("not_started", "The sale has not started yet. The button unlocks when the countdown ends.", "warn");
    readSale();
  } else if (response.status === 401) {
    forgetToken(); // expired or signed with a retired key: it will not work again
    say("unauthorized", "The shop did not accept your sign-in. Please sign in again, then reopen this page.", "bad");
  } else if (response.status === 404) {
    say("unknown_sale", "This sale does not exist. Please check the link from the shop.", "bad");
  } else if (response.status === 429) {
    pauseBuying("rate_limited", "Too many tries. Please wait a moment, then try again.");
  } else {
    pauseBuying("unavailable", "The shop is very busy. Please try again in a moment.");
  }
  render();
}

function sayClosed() {
  say(sale.status, sale.status === "sold_out" ? "Sold out: every unit has been taken." : "This sale has ended.", "bad");
}

function holdUnit(orderId, status, token, payBy) {
  rememberOutcomeUnknown(false);
  buyState = "done";
  if (status === "pending") {
    say("reserved", "Reserved! One unit is held for you. Confirming your order…", "ok");
    followOrder(orderId, token);
  } else showOrder({ orderId, status, payBy }, token);
}

// The order once MySQL has it: confirmed (to be paid by payBy), paid, or expired.
function showOrder(order, token) {
  if (order.status === "paid") {
    ui.payment.hidden = true;
    say("paid", `Paid! Your order ${order.orderId} is complete.`, "ok");
  } else if (order.status === "expired") {
    ui.payment.hidden = true;
    say("expired", "Expired — the payment window closed, and the unit went back on sale.", "bad");
  } else {
    say("confirmed", `Confirmed! Your order ${order.orderId} is placed.`, "ok");
    if (order.payBy) awaitPayment(order.orderId, Date.parse(order.payBy), token);
  }
}

let payment = null; // { orderId, payByMs, token } while a confirmed order waits to be paid

function awaitPayment(orderId, payByMs, token) {
  if (payment) return;
  payment = { orderId, payByMs, token };
  ui.payment.hidden = false;
  renderPayment();
  // Expiry is the service's to decide (within seconds after payBy): ask it until the order is paid or expired.
  const watch = async () => {
    if (!payment) return;
    if (now() >= payment.payByMs) {
      const order = await readOrder(orderId, token);
      if (order && order.status !== "confirmed") return finishPayment(order);
    }
    setTimeout(watch, ORDER_POLL_MS);
  };
  setTimeout(watch, ORDER_POLL_MS);
}

function renderPayment() {
  if (!payment) return;
  const left = payment.payByMs - now();
  setText(ui.payCountdown, formatDuration(left));
  ui.pay.disabled = left <= 0 || payment.sending === true;
}

function finishPayment(order) {
  const { token } = payment;
  payment = null;
  showOrder(order, token);
}

async function readOrder(orderId, token) {
  try {
    const response = await fetch(`${apiBase}/api/orders/${encodeURIComponent(orderId)}`, {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

// In local runs and the demo the buyer's payment endpoint stands in for the payment provider.
async function pay() {
  if (!payment || payment.sending) return;
  payment.sending = true;
  renderPayment();
  const { orderId, token } = payment;
  try {
    const response = await fetch(`${apiBase}/api/orders/${encodeURIComponent(orderId)}/payment`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) return finishPayment({ orderId, status: "paid" });
    if (body.error === "payment_window_closed") return finishPayment({ orderId, status: "expired" });
    say("payment_failed", "The payment did not go through. Please try again.", "warn");
  } catch {
    say("payment_failed", "The payment did not go through. Please try again.", "warn");
  } finally {
    if (payment) payment.sending = false;
    renderPayment();
  }
}

// Asks the service whether this buyer holds a unit: until it answers, nothing else is said.
async function resolveUnknownOutcome(token) {
  for (let delay = ORDER_POLL_MS; ; delay = Math.min(delay * 2, ORDER_POLL_MAX_MS)) {
    try {
      const response = await fetch(`${saleUrl()}/my-order`, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (response.ok) {
        const order = await response.json();
        holdUnit(order.orderId, order.status, token, order.payBy);
        return;
      }
      if (response.status === 404) {
        rememberOutcomeUnknown(false);
        if (sale && (sale.status === "sold_out" || sale.status === "ended")) sayClosed();
        else say("not_held", "Your earlier attempt did not go through. You can try again.", "warn");
        return;
      }
    } catch {
      // No answer either: ask again after a longer pause.
    }
    checking();
    await sleep(jitter(delay));
  }
}

// Reserved is not yet ordered: the order writer confirms it shortly. Poll gently until it does.
async function followOrder(orderId, token) {
  let delay = ORDER_POLL_MS;
  for (;;) {
    await sleep(jitter(delay));
    try {
      const response = await fetch(`${apiBase}/api/orders/${encodeURIComponent(orderId)}`, {
        headers: { Authorization: `Bearer ${token}` },
        cache: "no-store",
      });
      if (response.ok) {
        const order = await response.json();
        if (order.status !== "pending") {
          showOrder(order, token);
          return;
        }
        say("pending", "Pending: your unit is reserved and the order is being confirmed…", "ok");
      }
    } catch {
      // Keep the last message; the next attempt comes after a longer pause.
    }
    delay = Math.min(delay * 1.5, ORDER_POLL_MAX_MS);
  }
}

ui.buy.addEventListener("click", buy);
ui.pay.addEventListener("click", pay);

if (saleId) {
  readSale();
  const token = buyerToken();
  // Reloaded after an attempt whose outcome is unknown: find out before the shopper acts on a guess.
  if (token && outcomeUnknown()) {
    buyState = "sending";
    resolveUnknownOutcome(token).then(() => {
      if (buyState === "sending") buyState = "ready";
      render();
    });
  }
} else say("no_sale", "No sale selected. Please open this page from the shop's link.", "bad");
tick();
