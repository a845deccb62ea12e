// Amounts come from the API as JSON numbers; they are shown rounded, and their exact JSON value
// stays in data-amount so what is shown can always be checked against the API.

const compactFormats = new Map();
const fullFormats = new Map();

function formatFor(cache, currency, options) {
  if (!cache.has(currency)) {
    cache.set(currency, new Intl.NumberFormat('en-US', { style: 'currency', currency, ...options }));
  }
  return cache.get(currency);
}

/** "$62.4B": for labels where space is short. */
export function compactMoney(amount, currency) {
  return formatFor(compactFormats, currency, { notation: 'compact', maximumFractionDigits: 2 }).format(amount);
}

/** "$62,400,000,000": for tables, with cents only when there are any. */
export function fullMoney(amount, currency) {
  return formatFor(fullFormats, currency, { minimumFractionDigits: 0, maximumFractionDigits: 2 }).format(amount);
}

export function wholeNumber(value) {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(value);
}

/** An element showing an amount, carrying the amount itself for tooltips and checks. */
export function amountElement(tag, amount, currency, format = fullMoney) {
  const element = document.createElement(tag);
  element.textContent = format(amount, currency);
  element.dataset.amount = String(amount);
  element.title = `${amount} ${currency}`;
  return element;
}
