using FlowLedger.Domain;
using NodaTime;
using NodaTime.Text;

namespace FlowLedger.Api.Ledger;

/// <summary>Reads the asOf and knownAt of a query (SPEC §2); knownAt defaults to now.</summary>
public static class TimeQuery
{
    /// <param name="asOfName">What the caller calls the day, for error messages (the replay calls it "to").</param>
    public static PointInTime Parse(string? asOf, string? knownAt, IClock clock, string asOfName = "asOf") => new(
        string.IsNullOrEmpty(asOf) ? null : ParseDate(asOfName, asOf),
        string.IsNullOrEmpty(knownAt) ? clock.GetCurrentInstant() : ParseInstant("knownAt", knownAt));

    public static LocalDate ParseDate(string name, string value) =>
        LocalDatePattern.Iso.Parse(value) is { Success: true } result
            ? result.Value
            : throw new MalformedRequestException($"{name} '{value}' is not a date of the form YYYY-MM-DD.");

    public static Instant ParseInstant(string name, string value) =>
        InstantPattern.ExtendedIso.Parse(value) is { Success: true } result
            ? result.Value
            : throw new MalformedRequestException($"{name} '{value}' is not an ISO-8601 UTC instant such as 2026-01-05T10:00:00Z.");
}
