import { amountElement, compactMoney, wholeNumber } from './format.js';

function element(tag, properties = {}, ...children) {
  const created = document.createElement(tag);
  Object.assign(created, properties);
  created.append(...children);
  return created;
}

/** Tables are narrow, so their cells are compact; each keeps the exact amount in its title and data-amount. */
function amountCell(amount, currency) {
  const cell = amountElement('td', amount ?? 0, currency, compactMoney);
  cell.className = 'num';
  return cell;
}

/** Every company's cash and commitments in one currency: the figures the slider moves. */
export function renderPositions(tbody, balances, nameOf, currency, onSelect) {
  tbody.replaceChildren(...balances.map((balance) => {
    const cash = balance.cash[currency] ?? { in: 0, out: 0, net: 0 };
    const commitments = balance.commitments[currency] ?? { receivable: 0, payable: 0 };
    const name = element('button', { type: 'button', className: 'link', textContent: nameOf(balance.companyId) });
    name.addEventListener('click', () => onSelect(balance.companyId));
    const row = element('tr', {},
      element('th', { scope: 'row' }, name),
      ...[cash.net, cash.in, cash.out, commitments.receivable, commitments.payable]
        .map((amount) => amountCell(amount, currency)));
    row.dataset.company = balance.companyId;
    ['net', 'in', 'out', 'receivable', 'payable'].forEach((field, index) => {
      row.cells[index + 1].dataset.field = field;
    });
    return row;
  }));
}

function definitionList(entries) {
  const list = element('dl', { className: 'figures' });
  for (const [term, value] of entries) {
    list.append(element('dt', { textContent: term }), value);
  }
  return list;
}

function holdingText(holding) {
  if ('quantity' in holding) {
    return wholeNumber(holding.quantity);
  }
  return Object.entries(holding)
    .filter(([name]) => name !== 'asset')
    .map(([name, value]) => `${name} ${wholeNumber(value)}`)
    .join(', ');
}

/** SPEC §5 for one company: cash and commitments per currency, holdings and counterparties. */
export function renderCompany(container, balance, nameOf, onSelect) {
  const parts = [element('h3', { textContent: nameOf(balance.companyId) })];
  const currencies = [...new Set([...Object.keys(balance.cash), ...Object.keys(balance.commitments)])].sort();
  if (currencies.length === 0) {
    parts.push(element('p', { className: 'caption', textContent: 'No cash or commitments yet on this day.' }));
  }
  for (const currency of currencies) {
    const cash = balance.cash[currency] ?? { in: 0, out: 0, net: 0 };
    const commitments = balance.commitments[currency] ?? { receivable: 0, payable: 0 };
    const figures = definitionList([
      ['Cash in', amountElement('dd', cash.in, currency)],
      ['Cash out', amountElement('dd', cash.out, currency)],
      ['Cash net', amountElement('dd', cash.net, currency)],
      ['Receivable', amountElement('dd', commitments.receivable, currency)],
      ['Payable', amountElement('dd', commitments.payable, currency)],
    ]);
    figures.dataset.currency = currency;
    parts.push(element('h4', { textContent: currency }), figures);
  }
  if (balance.holdings.length > 0) {
    parts.push(element('h4', { textContent: 'Holdings' }), element('ul', { className: 'holdings' },
      ...balance.holdings.map((holding) => element('li', {},
        element('span', { className: 'asset', textContent: holding.asset }), ` ${holdingText(holding)}`))));
  }
  if (balance.counterparties.length > 0) {
    const rows = balance.counterparties.map((counterparty) => {
      const name = element('button', { type: 'button', className: 'link', textContent: nameOf(counterparty.companyId) });
      name.addEventListener('click', () => onSelect(counterparty.companyId));
      const row = element('tr', {}, element('th', { scope: 'row' }, name),
        ...['paid', 'received', 'committedTo', 'committedFrom']
          .map((field) => amountCell(counterparty[field], counterparty.currency)));
      row.dataset.company = counterparty.companyId;
      return row;
    });
    const head = element('tr', {}, ...['Counterparty', 'Paid', 'Received', 'Committed to', 'Committed from']
      .map((text, index) => element('th', { scope: 'col', className: index ? 'num' : '', textContent: text })));
    parts.push(element('h4', { textContent: 'Counterparties' }), element('div', { className: 'table-frame' },
      element('table', { className: 'counterparties' }, element('thead', {}, head), element('tbody', {}, ...rows))));
  }
  container.replaceChildren(...parts);
  container.dataset.company = balance.companyId;
}

export function loopKey(loop) {
  return loop.path.join('>');
}

/** The loops of SPEC §7 as buttons; the selected one is pressed. */
export function renderLoops(list, answer, nameOf, selectedKey, onToggle) {
  list.replaceChildren(...answer.loops.map((loop) => {
    const key = loopKey(loop);
    const button = element('button', { type: 'button', className: 'loop' },
      element('span', { className: 'path', textContent: loop.path.map(nameOf).join(' → ') }),
      element('span', { className: 'figure', textContent: `bottleneck ${compactMoney(loop.bottleneck, answer.currency)}` }));
    button.setAttribute('aria-pressed', String(key === selectedKey));
    button.dataset.loop = key;
    button.addEventListener('click', () => onToggle(key));
    return element('li', {}, button);
  }));
}

export function renderLoopDetail(container, loop, layer, currency, nameOf) {
  if (!loop) {
    container.replaceChildren();
    return;
  }
  const entries = [['Bottleneck', amountElement('dd', loop.bottleneck, currency)]];
  if (layer === 'cash') {
    entries.push(['Went round in time', amountElement('dd', loop.temporalFlow, currency)]);
    entries.push(['Closed on', element('dd', { textContent: loop.closedOn ?? 'not yet' })]);
  }
  const figures = definitionList(entries);
  figures.dataset.loop = loopKey(loop);
  const edges = element('ul', { className: 'loop-edges' }, ...loop.edges.map((edge) =>
    element('li', {}, `${nameOf(edge.from)} → ${nameOf(edge.to)} `,
      amountElement('span', edge.total, currency, compactMoney),
      ` (${edge.eventIds.length} ${edge.eventIds.length === 1 ? 'event' : 'events'})`)));
  container.replaceChildren(element('h3', { textContent: loop.path.map(nameOf).join(' → ') }), figures, edges);
}

/** The totals of SPEC §6, which the Sankey diagram below them draws. */
export function renderTraceTotals(list, trace) {
  const held = trace.holders.reduce((sum, holder) => sum + holder.amount, 0);
  const entries = [
    ['traced', 'Traced', trace.traced],
    ['returnedToSource', 'Returned to the source', trace.returnedToSource],
    ['leftLedger', 'Left the ledger', trace.leftLedger],
    ['held', 'Still held by companies', held],
  ];
  list.replaceChildren(...entries.map(([field, term, amount]) => {
    const value = amountElement('dd', amount, trace.currency);
    value.dataset.field = field;
    return element('div', {}, element('dt', { textContent: term }), value);
  }));
  list.dataset.source = trace.source;
  list.dataset.policy = trace.policy;
}

/** One line of the live feed for an event as GET /api/events shows it. */
export function liveFeedItem(recorded, nameOf) {
  const parties = Object.entries(recorded.data ?? {})
    .filter(([, value]) => typeof value === 'string' && nameOf(value) !== value)
    .map(([, value]) => nameOf(value));
  const item = element('li', {},
    element('span', { className: 'sequence', textContent: `#${recorded.sequence}` }), ' ',
    element('strong', { textContent: recorded.type }), ' ',
    element('span', { textContent: [recorded.dealId, ...new Set(parties)].filter(Boolean).join(' · ') }), ' ',
    element('span', { className: 'caption', textContent: `effective ${recorded.effectiveOn}` }));
  item.dataset.sequence = String(recorded.sequence);
  item.dataset.eventId = recorded.eventId;
  return item;
}
