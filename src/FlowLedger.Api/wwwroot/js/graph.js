import { compactMoney } from './format.js';

const width = 900;
const height = 560;
const ringRadius = 210;
const smallestNode = 5;
const largestNode = 34;
const thinnestEdge = 1;
const thickestEdge = 14;
const kinds = ['chip-vendor', 'cloud', 'ai-lab', 'investor', 'bank', 'other'];

/**
 * Companies sit on a ring in a fixed order (by kind, then id), so that replaying history moves
 * sizes and widths but never the companies themselves.
 */
function ringPositions(companies) {
  const ordered = [...companies].sort((a, b) =>
    (kinds.indexOf(a.kind) - kinds.indexOf(b.kind)) || a.companyId.localeCompare(b.companyId));
  const positions = new Map();
  ordered.forEach((company, index) => {
    const angle = (2 * Math.PI * index) / ordered.length - Math.PI / 2;
    positions.set(company.companyId, {
      angle,
      x: width / 2 + ringRadius * Math.cos(angle),
      y: height / 2 + ringRadius * Math.sin(angle),
    });
  });
  return positions;
}

export function sizeValue(balance, sizeBy, currency) {
  if (sizeBy === 'cash') {
    return Math.max(0, balance.cash[currency]?.net ?? 0);
  }
  const commitments = balance.commitments[currency];
  return commitments ? commitments.receivable + commitments.payable : 0;
}

/** One edge per ordered pair: cash the first company paid the second, or its outstanding commitments to it. */
export function edgesOf(balances, layer, currency) {
  const edges = [];
  for (const balance of balances) {
    for (const counterparty of balance.counterparties) {
      const amount = layer === 'cash' ? counterparty.paid : counterparty.committedTo;
      if (counterparty.currency === currency && amount > 0) {
        edges.push({ from: balance.companyId, to: counterparty.companyId, amount });
      }
    }
  }
  return edges;
}

function unit(dx, dy) {
  const length = Math.hypot(dx, dy) || 1;
  return [dx / length, dy / length];
}

/** A curve bent to its right, so that A→B and B→A stay apart; it stops at the target's rim for the arrow. */
function edgePath(source, target, sourceRadius, targetRadius) {
  const [ux, uy] = unit(target.x - source.x, target.y - source.y);
  const bend = 0.18 * Math.hypot(target.x - source.x, target.y - source.y);
  const control = { x: (source.x + target.x) / 2 - uy * bend, y: (source.y + target.y) / 2 + ux * bend };
  const [sx, sy] = unit(control.x - source.x, control.y - source.y);
  const [ex, ey] = unit(target.x - control.x, target.y - control.y);
  const start = { x: source.x + sx * sourceRadius, y: source.y + sy * sourceRadius };
  const end = { x: target.x - ex * (targetRadius + 2), y: target.y - ey * (targetRadius + 2) };
  return `M${start.x},${start.y} Q${control.x},${control.y} ${end.x},${end.y}`;
}

function ensureFrame(svg) {
  if (svg.select('g.edges').empty()) {
    svg.attr('viewBox', `0 0 ${width} ${height}`).attr('preserveAspectRatio', 'xMidYMid meet');
    const defs = svg.append('defs');
    for (const name of ['arrow', 'arrow-loop']) {
      defs.append('marker')
        .attr('id', name).attr('class', name)
        .attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5)
        .attr('markerUnits', 'userSpaceOnUse').attr('markerWidth', 12).attr('markerHeight', 12)
        .attr('orient', 'auto')
        .append('path').attr('d', 'M0,0 L10,5 L0,10 z');
    }
    svg.append('g').attr('class', 'edges');
    svg.append('g').attr('class', 'nodes');
  }
}

function loopPairs(loop) {
  const pairs = new Set();
  if (loop) {
    for (let i = 0; i + 1 < loop.path.length; i++) {
      pairs.add(`${loop.path[i]}>${loop.path[i + 1]}`);
    }
  }
  return pairs;
}

/**
 * Draws the companies and the edges of one layer at one point in time.
 * view: { companies, balances, layer, sizeBy, currency, selectedCompany, loop, onSelect }.
 */
export function renderGraph(svgElement, view) {
  const d3 = window.d3;
  const svg = d3.select(svgElement);
  ensureFrame(svg);

  const positions = ringPositions(view.companies);
  const balanceOf = new Map(view.balances.map((balance) => [balance.companyId, balance]));
  const sizes = new Map(view.companies.map((company) => {
    const balance = balanceOf.get(company.companyId);
    return [company.companyId, balance ? sizeValue(balance, view.sizeBy, view.currency) : 0];
  }));
  const largestSize = Math.max(1, ...sizes.values());
  const radius = (id) => smallestNode + (largestNode - smallestNode) * Math.sqrt((sizes.get(id) ?? 0) / largestSize);

  const edges = edgesOf(view.balances, view.layer, view.currency)
    .filter((edge) => positions.has(edge.from) && positions.has(edge.to));
  const largestEdge = Math.max(1, ...edges.map((edge) => edge.amount));
  const edgeWidth = (amount) => thinnestEdge + (thickestEdge - thinnestEdge) * Math.sqrt(amount / largestEdge);
  const highlighted = loopPairs(view.loop);
  const names = new Map(view.companies.map((company) => [company.companyId, company.name]));

  svg.classed('highlighting', highlighted.size > 0).attr('data-layer', view.layer);

  svg.select('g.edges').selectAll('path.edge')
    .data(edges, (edge) => `${edge.from}>${edge.to}`)
    .join((enter) => enter.append('path').attr('class', 'edge').call((path) => path.append('title')))
    .attr('d', (edge) => edgePath(positions.get(edge.from), positions.get(edge.to), radius(edge.from), radius(edge.to)))
    .attr('stroke-width', (edge) => edgeWidth(edge.amount))
    .attr('data-from', (edge) => edge.from)
    .attr('data-to', (edge) => edge.to)
    .attr('data-amount', (edge) => String(edge.amount))
    .classed('commitment', view.layer === 'commitment')
    .classed('in-loop', (edge) => highlighted.has(`${edge.from}>${edge.to}`))
    .attr('marker-end', (edge) => (highlighted.has(`${edge.from}>${edge.to}`) ? 'url(#arrow-loop)' : 'url(#arrow)'))
    .select('title')
    .text((edge) => `${names.get(edge.from)} → ${names.get(edge.to)}: ${compactMoney(edge.amount, view.currency)}`
      + (view.layer === 'cash' ? ' paid' : ' committed, outstanding'));

  // Highlighted edges are drawn last so that they lie on top of the others.
  svg.select('g.edges').selectAll('path.in-loop').raise();

  const inLoop = new Set(view.loop ? view.loop.path : []);
  const nodes = svg.select('g.nodes').selectAll('g.node')
    .data(view.companies, (company) => company.companyId)
    .join((enter) => {
      const node = enter.append('g').attr('class', 'node').attr('tabindex', 0).attr('role', 'button');
      node.append('circle');
      node.append('text').attr('class', 'label');
      node.append('title');
      return node;
    })
    .attr('transform', (company) => {
      const position = positions.get(company.companyId);
      return `translate(${position.x},${position.y})`;
    })
    .attr('data-company', (company) => company.companyId)
    .attr('data-kind', (company) => company.kind)
    .attr('data-size', (company) => String(sizes.get(company.companyId)))
    .attr('aria-pressed', (company) => String(company.companyId === view.selectedCompany))
    .attr('aria-label', (company) => `${company.name}: ${describeSize(view.sizeBy, sizes.get(company.companyId), view.currency)}`)
    .classed('selected', (company) => company.companyId === view.selectedCompany)
    .classed('in-loop', (company) => inLoop.has(company.companyId));

  // Clicks and keys read the latest callback, not the one current when the node was created.
  nodes.on('click', (_, company) => view.onSelect(company.companyId));
  nodes.on('keydown', (event, company) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      view.onSelect(company.companyId);
    }
  });

  nodes.select('circle').attr('r', (company) => radius(company.companyId));
  nodes.select('text.label')
    .attr('x', (company) => Math.cos(positions.get(company.companyId).angle) * (radius(company.companyId) + 6))
    .attr('y', (company) => Math.sin(positions.get(company.companyId).angle) * (radius(company.companyId) + 6))
    .attr('dy', (company) => (Math.sin(positions.get(company.companyId).angle) > 0.5 ? '0.9em'
      : Math.sin(positions.get(company.companyId).angle) < -0.5 ? '-0.3em' : '0.35em'))
    .attr('text-anchor', (company) => {
      const cos = Math.cos(positions.get(company.companyId).angle);
      return cos > 0.3 ? 'start' : cos < -0.3 ? 'end' : 'middle';
    })
    .text((company) => shortName(company));
  nodes.select('title').text((company) => `${company.name}\n${describeSize(view.sizeBy, sizes.get(company.companyId), view.currency)}`);

  return { edges: edges.length };
}

function describeSize(sizeBy, value, currency) {
  return sizeBy === 'cash' ? `cash held ${compactMoney(value, currency)}` : `commitments ${compactMoney(value, currency)}`;
}

/** Long aggregate names ("Venture and private-capital investors (aggregate)") would cover the ring. */
function shortName(company) {
  const name = company.name.replace(/\s*\(.*\)\s*$/, '');
  return name.length > 22 ? company.companyId : name;
}
