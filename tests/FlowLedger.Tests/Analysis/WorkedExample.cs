using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Analysis;
using FlowLedger.Projections.Balances;
using FlowLedger.Tests.Builders;
using NodaTime;
using static FlowLedger.Tests.Builders.Ledger;

namespace FlowLedger.Tests.Analysis;

/// <summary>
/// The worked example of SPEC §6 and §7, recorded as real events of one deal: V (vendor), L (lab), C (cloud)
/// and X (investor), no opening cash; X→L 30 on 2025-01-10, V→L 10 on 02-01, L→V 20 on 03-01, L→C 16 on
/// 04-01, C→V 8 on 05-01.
/// </summary>
internal static class WorkedExample
{
    public const string V = "v";
    public const string L = "l";
    public const string C = "c";
    public const string X = "x";
    public const string Deal = "vendor-financing";

    public static readonly LocalDate YearEnd = new(2025, 12, 31);

    private static readonly ILedgerEvent[] Events =
    [
        Make.Company(V), Make.Company(L), Make.Company(C), Make.Company(X),
        Make.Funding(X, L, Usd(30), Day(1, 10)),
        Make.Funding(V, L, Usd(10), Day(2)),
        Make.Services(L, V, Usd(20), Day(3)),
        Make.Services(L, C, Usd(16), Day(4)),
        Make.Services(C, V, Usd(8), Day(5)),
    ];

    public static IReadOnlyList<FoldStep> StepsAsOf(LocalDate day)
    {
        var history = new History();
        var entries = Events.Select(e => (StreamKeyOf(e), history.Record(e)));
        return LedgerFold.Steps(entries, new PointInTime(day, null)).ToList();
    }

    public static IReadOnlyList<Movement> CashAsOf(LocalDate day) => LedgerMovements.Cash(StepsAsOf(day)).ToList();

    private static string StreamKeyOf(ILedgerEvent e) =>
        e is CompanyRegistered registration ? CompanyProfile.StreamKeyOf(registration.CompanyId) : Deal;
}
