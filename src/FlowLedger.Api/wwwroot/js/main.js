import { forgetKey, rememberKey, storedKey } from './access.js';
import { api } from './api.js';
import { dayNumber, instantFromLocalInput, isoDate, todayIso } from './dates.js';
import { compactMoney } from './format.js';
import { renderGraph } from './graph.js';
import { subscribe } from './live.js';
import {
  liveFeedItem, loopKey, renderCompany, renderLoopDetail, renderLoops, renderPositions, renderTraceTotals,
} from './panels.js';
import { renderSankey } from './sankey.js';

// The timeline's end is the last effective day found in the first pages of events; a larger store
// ends it today rather than reading every event into the browser.
const eventPagesForTimeline = 20;
const eventPageSize = 1000;
const playPauseMs = 120;
const liveRefreshDelayMs = 300;
const sliderRefreshDelayMs = 80;
const liveFeedLength = 20;

const $ = (id) => document.getElementById(id);
const ui = {
  slider: $('asof-slider'), asOfLabel: $('asof-label'), asOfDate: $('asof-date'),
  stepBack: $('step-back'), stepForward: $('step-forward'), play: $('play'), playStep: $('play-step'),
  knownAt: $('known-at'), knownNow: $('known-now'), currency: $('currency'),
  problem: $('problem'), liveStatus: $('live-status'), main: document.querySelector('main'),
  graph: $('graph'), graphCaption: $('graph-caption'), sizeLegend: $('size-legend'),
  companySelect: $('company-select'), companyPanel: $('company-panel'),
  loopsCaption: $('loops-caption'), loopsList: $('loops-list'), loopDetail: $('loop-detail'),
  positions: document.querySelector('#positions tbody'), positionsCaption: $('positions-caption'),
  traceSource: $('trace-source'), tracePolicy: $('trace-policy'), traceTotals: $('trace-totals'),
  sankey: $('sankey'), traceSummary: $('trace-summary'), liveFeed: $('live-feed'),
  keyForm: $('key-form'), keyInput: $('api-key'), keyProblem: $('key-problem'),
  keyHolder: $('key-holder'), keyName: $('key-name'), forgetKey: $('forget-key'),
};

const state = {
  companies: [],
  firstDay: 0,
  lastDay: 0,
  day: 0,
  knownAt: null,
  layer: 'cash',
  sizeBy: 'cash',
  currency: 'USD',
  selectedCompany: null,
  selectedLoop: null,
  traceSource: null,
  loadedThroughSequence: 0,
  playing: false,
  shown: null,
};

const asOf = () => isoDate(state.day);
const point = () => ({ asOf: asOf(), knownAt: state.knownAt });
const nameOf = (companyId) => state.companies.find((c) => c.companyId === companyId)?.name ?? companyId;

function showProblem(error) {
  ui.problem.textContent = `Could not load the figures: ${error.message}`;
  ui.problem.hidden = false;
}

function clearProblem() {
  ui.problem.hidden = true;
  ui.problem.textContent = '';
}

// ---- loading -------------------------------------------------------------------------------------

async function loadTimeline() {
  let first = null;
  let last = null;
  let afterSequence = 0;
  let complete = false;
  for (let page = 0; page < eventPagesForTimeline && !complete; page++) {
    const events = await api.events(afterSequence, eventPageSize);
    for (const recorded of events) {
      first = first === null || recorded.effectiveOn < first ? recorded.effectiveOn : first;
      last = last === null || recorded.effectiveOn > last ? recorded.effectiveOn : last;
    }
    complete = events.length < eventPageSize;
    afterSequence = events.at(-1)?.sequence ?? afterSequence;
  }
  const registered = state.companies.map((company) => company.registeredOn).sort()[0];
  const start = [first, registered].filter(Boolean).sort()[0] ?? todayIso();
  const end = complete ? (last ?? todayIso()) : [last, todayIso()].sort().at(-1);
  state.loadedThroughSequence = afterSequence;
  setTimeline(dayNumber(start), dayNumber(end));
  setDay(state.lastDay);
}

function setTimeline(firstDay, lastDay) {
  state.firstDay = firstDay;
  state.lastDay = Math.max(firstDay, lastDay);
  ui.slider.min = '0';
  ui.slider.max = String(state.lastDay - state.firstDay);
  ui.slider.disabled = false;
  ui.asOfDate.min = isoDate(state.firstDay);
  ui.asOfDate.max = isoDate(state.lastDay);
}

/** Everything that depends on the point in time, fetched together so that the page never mixes two days. */
async function loadFigures() {
  const at = point();
  const [balances, loops, trace, company] = await Promise.all([
    api.balances(at),
    api.loops({ ...at, layer: state.layer, currency: state.currency }),
    api.trace({ ...at, source: state.traceSource, policy: ui.tracePolicy.value, currency: state.currency }),
    api.companyBalance(state.selectedCompany, at),
  ]);
  state.shown = { at, balances: balances.companies, loops, trace, company, layer: state.layer };
}

// A refresh asked for while one runs is done once, right after it, with the latest settings.
let refreshing = null;
let refreshAgain = false;

function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await loadFigures();
        clearProblem();
        render();
      } catch (error) {
        showProblem(error);
      }
    } while (refreshAgain);
    refreshing = null;
  })();
  return refreshing;
}

let refreshTimer = null;

function refreshSoon(delayMs) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delayMs);
}

// ---- rendering -----------------------------------------------------------------------------------

function render() {
  const shown = state.shown;
  if (!shown) {
    return;
  }
  const { at, balances, loops, trace, company } = shown;
  const when = at.knownAt ? `as of ${at.asOf}, as known at ${at.knownAt}` : `as of ${at.asOf}`;
  const selectedLoop = loops.loops.find((loop) => loopKey(loop) === state.selectedLoop) ?? null;

  updateCurrencies(balances);
  const { edges } = renderGraph(ui.graph, {
    companies: state.companies, balances, layer: shown.layer, sizeBy: state.sizeBy, currency: state.currency,
    selectedCompany: state.selectedCompany, loop: selectedLoop, onSelect: selectCompany,
  });
  ui.graphCaption.textContent = `${edges} ${shown.layer === 'cash' ? 'cash payment' : 'outstanding commitment'}`
    + `${edges === 1 ? '' : 's'} between ${state.companies.length} companies, ${when}`;
  ui.sizeLegend.textContent = state.sizeBy === 'cash' ? 'cash held' : 'commitments receivable + payable';

  renderPositions(ui.positions, balances, nameOf, state.currency, selectCompany);
  ui.positionsCaption.textContent = `In ${state.currency}, ${when}`;

  renderCompany(ui.companyPanel, company, nameOf, selectCompany);

  renderLoops(ui.loopsList, loops, nameOf, state.selectedLoop, toggleLoop);
  renderLoopDetail(ui.loopDetail, selectedLoop, loops.layer, loops.currency, nameOf);
  ui.loopsCaption.textContent = `${loops.loops.length === 0 ? 'No' : loops.loops.length} ${loops.layer} `
    + `loop${loops.loops.length === 1 ? '' : 's'} ${when}${loops.truncated ? ' (the search stopped early: more exist)' : ''}.`
    + (loops.loops.length ? ' Select one to see it on the graph.' : '');

  renderTraceTotals(ui.traceTotals, trace);
  renderSankey(ui.sankey, trace, nameOf);
  const held = trace.holders.reduce((sum, holder) => sum + holder.amount, 0);
  const money = (amount) => compactMoney(amount, trace.currency);
  ui.traceSummary.textContent = `${nameOf(trace.source)} paid out ${money(trace.traced)} ${when}, attributed ${trace.policy}: `
    + `${money(trace.returnedToSource)} came back to it, ${money(trace.leftLedger)} left the ledger and ${money(held)} is still held.`;

  // Lets a reader (or a test) know which point in time the figures on screen belong to.
  ui.main.dataset.shownAsOf = at.asOf;
  ui.main.dataset.shownKnownAt = at.knownAt ?? '';
}

function updateCurrencies(balances) {
  const currencies = new Set(['USD', state.currency]);
  for (const balance of balances) {
    Object.keys(balance.cash).forEach((c) => currencies.add(c));
    Object.keys(balance.commitments).forEach((c) => currencies.add(c));
  }
  const sorted = [...currencies].sort();
  if (sorted.join() !== [...ui.currency.options].map((o) => o.value).join()) {
    ui.currency.replaceChildren(...sorted.map((c) => new Option(c, c, false, c === state.currency)));
  }
}

// ---- interaction ---------------------------------------------------------------------------------

function setDay(day) {
  state.day = Math.min(state.lastDay, Math.max(state.firstDay, day));
  const iso = asOf();
  ui.slider.value = String(state.day - state.firstDay);
  ui.slider.setAttribute('aria-valuetext', iso);
  ui.asOfLabel.textContent = iso;
  ui.asOfDate.value = iso;
  ui.stepBack.disabled = state.day <= state.firstDay;
  ui.stepForward.disabled = state.day >= state.lastDay;
}

function moveTo(day, delayMs = sliderRefreshDelayMs) {
  setDay(day);
  refreshSoon(delayMs);
}

function selectCompany(companyId) {
  state.selectedCompany = companyId;
  ui.companySelect.value = companyId;
  api.companyBalance(companyId, state.shown?.at ?? point())
    .then((company) => {
      if (state.shown) {
        state.shown.company = company;
        render();
      }
    })
    .catch(showProblem);
}

function toggleLoop(key) {
  state.selectedLoop = state.selectedLoop === key ? null : key;
  render();
}

async function play() {
  state.playing = true;
  ui.play.textContent = 'Pause';
  ui.play.setAttribute('aria-pressed', 'true');
  if (state.day >= state.lastDay) {
    setDay(state.firstDay);
  }
  while (state.playing && state.day < state.lastDay) {
    setDay(state.day + Number(ui.playStep.value));
    await refresh();
    await new Promise((resolve) => setTimeout(resolve, playPauseMs));
  }
  pause();
}

function pause() {
  state.playing = false;
  ui.play.textContent = 'Play';
  ui.play.setAttribute('aria-pressed', 'false');
}

function onRecorded(recorded) {
  // A stream that starts late replays history; what the page loaded already is not news.
  if (recorded.sequence <= state.loadedThroughSequence) {
    return;
  }
  ui.liveFeed.prepend(liveFeedItem(recorded, nameOf));
  while (ui.liveFeed.children.length > liveFeedLength) {
    ui.liveFeed.lastElementChild.remove();
  }
  if (!state.shown) {
    // The first events of an empty ledger: there is no timeline to extend yet.
    showLedger().catch(showProblem);
    return;
  }
  const day = dayNumber(recorded.effectiveOn);
  if (day > state.lastDay) {
    // A reader watching the latest day keeps watching it as the ledger grows.
    const following = state.day === state.lastDay;
    setTimeline(state.firstDay, day);
    setDay(following ? day : state.day);
  }
  if (recorded.type === 'CompanyRegistered') {
    showLedger().catch(showProblem);
    return;
  }
  refreshSoon(liveRefreshDelayMs);
}

function onLoopsChanged(sequence) {
  if (sequence === null || sequence > state.loadedThroughSequence) {
    refreshSoon(liveRefreshDelayMs);
  }
}

function showLiveStatus(status) {
  ui.liveStatus.dataset.state = status;
  ui.liveStatus.textContent = {
    live: 'Live: new events appear as they are recorded',
    reconnecting: 'Live: reconnecting…',
    unavailable: 'Live updates unavailable; retrying in 30 s',
  }[status];
}

function fillCompanyChoices() {
  const options = (selected) => state.companies.map((c) => new Option(c.name, c.companyId, false, c.companyId === selected));
  ui.companySelect.replaceChildren(...options(state.selectedCompany));
  ui.traceSource.replaceChildren(...options(state.traceSource));
}

function wireControls() {
  ui.slider.addEventListener('input', () => {
    pause();
    moveTo(state.firstDay + Number(ui.slider.value));
  });
  ui.asOfDate.addEventListener('change', () => {
    if (ui.asOfDate.value) {
      pause();
      moveTo(dayNumber(ui.asOfDate.value), 0);
    }
  });
  ui.stepBack.addEventListener('click', () => moveTo(state.day - 1));
  ui.stepForward.addEventListener('click', () => moveTo(state.day + 1));
  ui.play.addEventListener('click', () => (state.playing ? pause() : play()));
  ui.knownAt.addEventListener('change', () => {
    state.knownAt = instantFromLocalInput(ui.knownAt.value);
    refreshSoon(0);
  });
  ui.knownNow.addEventListener('click', () => {
    ui.knownAt.value = '';
    state.knownAt = null;
    refreshSoon(0);
  });
  for (const radio of document.querySelectorAll('input[name="layer"]')) {
    radio.addEventListener('change', () => {
      state.layer = radio.value;
      state.selectedLoop = null;
      refreshSoon(0);
    });
  }
  for (const radio of document.querySelectorAll('input[name="size-by"]')) {
    radio.addEventListener('change', () => {
      state.sizeBy = radio.value;
      render();
    });
  }
  ui.currency.addEventListener('change', () => {
    state.currency = ui.currency.value;
    refreshSoon(0);
  });
  ui.companySelect.addEventListener('change', () => selectCompany(ui.companySelect.value));
  ui.traceSource.addEventListener('change', () => {
    state.traceSource = ui.traceSource.value;
    refreshSoon(0);
  });
  ui.tracePolicy.addEventListener('change', () => refreshSoon(0));
}

function defaultCompany(preferred, kind) {
  const ids = state.companies.map((c) => c.companyId);
  return ids.includes(preferred) ? preferred : (state.companies.find((c) => c.kind === kind) ?? state.companies[0])?.companyId;
}

/** Reads the companies; the first time there are any, finds the timeline and shows its last day. */
async function showLedger() {
  state.companies = await api.companies();
  // The demo's story (docs/demo-scenario.md) centres on OpenAI, financed by Nvidia.
  state.selectedCompany ??= defaultCompany('openai', 'ai-lab');
  state.traceSource ??= defaultCompany('nvidia', 'chip-vendor');
  fillCompanyChoices();
  if (state.companies.length === 0) {
    ui.graphCaption.textContent = 'No companies are registered yet.';
  } else if (!state.shown) {
    await loadTimeline();
    await refresh();
  } else {
    refreshSoon(liveRefreshDelayMs);
  }
}

/** Resolves with the key typed into the form, which is shown until then. */
function askForKey(problem) {
  ui.keyProblem.textContent = problem ?? '';
  ui.keyProblem.hidden = !problem;
  ui.keyForm.hidden = false;
  ui.keyInput.focus();
  return new Promise((resolve) => {
    ui.keyForm.addEventListener('submit', (submitted) => {
      submitted.preventDefault();
      ui.keyForm.hidden = true;
      resolve(ui.keyInput.value.trim());
    }, { once: true });
  });
}

/** Asks for a key until the server accepts one, unless it needs none (open mode). */
async function gainAccess() {
  let access = await api.access();
  while (!access.role) {
    const refused = storedKey() !== null;
    forgetKey();
    rememberKey(await askForKey(refused ? 'This server does not know that key.' : null));
    access = await api.access();
  }
  if (access.keyName) {
    ui.keyName.textContent = access.keyName;
    ui.keyHolder.hidden = false;
  }
}

async function start() {
  wireControls();
  ui.forgetKey.addEventListener('click', () => {
    forgetKey();
    window.location.reload();
  });
  try {
    await gainAccess();
    await showLedger();
  } catch (error) {
    showProblem(error);
  }
  subscribe({ event: onRecorded, loops: onLoopsChanged, status: showLiveStatus });
}

start();
