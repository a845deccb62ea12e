import { compactMoney } from './format.js';

const width = 900;
const height = 380;
const external = '@external';

/**
 * Turns a trace answer (SPEC §6) into a network d3-sankey can draw. Money flows left to right from
 * the source; it ends "returned" (back at the source), "left the ledger" (paid to @external) or
 * "held" by a company. A payment that would close a circle among other companies is drawn into a
 * node of its own, because a Sankey diagram cannot show cycles.
 */
export function traceNetwork(trace, nameOf) {
  const source = trace.source;
  const nodes = new Map();
  const links = [];
  const node = (id, label, kind) => {
    if (!nodes.has(id)) {
      nodes.set(id, { id, label, kind });
    }
    return id;
  };
  const companyNode = (companyId) => node(`company:${companyId}`, nameOf(companyId), companyId === source ? 'source' : 'company');

  companyNode(source);
  const outgoing = new Map();
  for (const flow of trace.flows.filter((f) => f.amount > 0)) {
    if (!outgoing.has(flow.from)) {
      outgoing.set(flow.from, []);
    }
    outgoing.get(flow.from).push(flow);
  }

  // Depth-first from the source: an edge back to a company still on the path would close a cycle.
  const onPath = new Set();
  const visited = new Set();
  const walk = (companyId) => {
    visited.add(companyId);
    onPath.add(companyId);
    for (const flow of outgoing.get(companyId) ?? []) {
      let target;
      if (flow.to === source) {
        target = node('returned', `Returned to ${nameOf(source)}`, 'returned');
      } else if (flow.to === external) {
        target = node('left', 'Left the ledger', 'left');
      } else if (onPath.has(flow.to)) {
        target = node(`again:${flow.to}`, `${nameOf(flow.to)} (round again)`, 'company');
      } else {
        target = companyNode(flow.to);
        if (!visited.has(flow.to)) {
          walk(flow.to);
        }
      }
      links.push({ source: `company:${companyId}`, target, value: flow.amount });
    }
    onPath.delete(companyId);
  };
  walk(source);

  for (const holder of trace.holders.filter((h) => h.amount > 0)) {
    companyNode(holder.companyId);
    links.push({
      source: `company:${holder.companyId}`,
      target: node(`held:${holder.companyId}`, `Held by ${nameOf(holder.companyId)}`, 'held'),
      value: holder.amount,
    });
  }
  return { nodes: [...nodes.values()], links };
}

export function renderSankey(svgElement, trace, nameOf) {
  const d3 = window.d3;
  const svg = d3.select(svgElement).attr('viewBox', `0 0 ${width} ${height}`);
  svg.selectAll('*').remove();
  const network = traceNetwork(trace, nameOf);
  if (network.links.length === 0) {
    svg.append('text').attr('class', 'empty').attr('x', width / 2).attr('y', height / 2)
      .attr('text-anchor', 'middle').text(`No cash left ${nameOf(trace.source)} by this day.`);
    return;
  }

  const layout = d3.sankey()
    .nodeId((n) => n.id)
    .nodeWidth(14)
    .nodePadding(14)
    .extent([[1, 8], [width - 1, height - 8]]);
  const { nodes, links } = layout({
    nodes: network.nodes.map((n) => ({ ...n })),
    links: network.links.map((l) => ({ ...l })),
  });

  svg.append('g').attr('class', 'sankey-links')
    .selectAll('path').data(links).join('path')
    .attr('class', (l) => `sankey-link to-${l.target.kind}`)
    .attr('d', d3.sankeyLinkHorizontal())
    .attr('stroke-width', (l) => Math.max(1, l.width))
    .append('title')
    .text((l) => `${l.source.label} → ${l.target.label}: ${compactMoney(l.value, trace.currency)}`);

  const node = svg.append('g').attr('class', 'sankey-nodes')
    .selectAll('g').data(nodes).join('g')
    .attr('class', (n) => `sankey-node ${n.kind}`)
    .attr('data-node', (n) => n.id)
    .attr('data-amount', (n) => String(n.value));
  node.append('rect')
    .attr('x', (n) => n.x0).attr('y', (n) => n.y0)
    .attr('width', (n) => n.x1 - n.x0).attr('height', (n) => Math.max(1, n.y1 - n.y0));
  node.append('text')
    .attr('x', (n) => (n.x0 < width / 2 ? n.x1 + 6 : n.x0 - 6))
    .attr('y', (n) => (n.y0 + n.y1) / 2)
    .attr('dy', '0.35em')
    .attr('text-anchor', (n) => (n.x0 < width / 2 ? 'start' : 'end'))
    .text((n) => `${n.label} ${compactMoney(n.value, trace.currency)}`);
  node.append('title').text((n) => `${n.label}: ${n.value} ${trace.currency}`);
}
