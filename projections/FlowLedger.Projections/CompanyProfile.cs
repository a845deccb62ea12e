using FlowLedger.Domain;
using JasperFx.Events;
using Marten.Events.Aggregation;
using NodaTime;

namespace FlowLedger.Projections;

/// <summary>
/// A registered company, kept inline with its registration so that every command can check its
/// parties in the same transaction. Its id is the company's stream key (see <see cref="StreamKeyOf"/>).
/// </summary>
public sealed record CompanyProfile(
    string Id, string CompanyId, string Name, CompanyKind Kind, string? Ticker, Money? OpeningCash,
    LocalDate RegisteredOn)
{
    /// <summary>
    /// Company streams share the event store with deal streams; a '/' can never appear in a deal's
    /// slug, so this prefix keeps the two apart.
    /// </summary>
    private const string StreamPrefix = "company/";

    public static string StreamKeyOf(string companyId) => StreamPrefix + companyId;

    public static bool IsCompanyStream(string streamKey) => streamKey.StartsWith(StreamPrefix, StringComparison.Ordinal);
}

public sealed partial class CompanyProfileProjection : SingleStreamProjection<CompanyProfile, string>
{
    public static CompanyProfile Create(IEvent<CompanyRegistered> e) => new(
        e.StreamKey!, e.Data.CompanyId, e.Data.Name, e.Data.Kind, e.Data.Ticker, e.Data.OpeningCash, e.Data.EffectiveOn);
}
