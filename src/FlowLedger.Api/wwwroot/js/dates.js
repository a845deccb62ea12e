// Valid time is a calendar day (YYYY-MM-DD) with no time zone; days are counted in UTC so that
// arithmetic never crosses a daylight-saving change.

const msPerDay = 86_400_000;

export function dayNumber(isoDate) {
  const [year, month, day] = isoDate.split('-').map(Number);
  return Date.UTC(year, month - 1, day) / msPerDay;
}

export function isoDate(dayNumberValue) {
  return new Date(dayNumberValue * msPerDay).toISOString().slice(0, 10);
}

export function todayIso() {
  return new Date().toISOString().slice(0, 10);
}

/** The value of a datetime-local input, read as UTC, as an ISO-8601 instant; null when empty. */
export function instantFromLocalInput(value) {
  if (!value) {
    return null;
  }
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return `${withSeconds}Z`;
}
