using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using Marten;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>The postings projection, read as balances and as the posted events trace and loops follow, equals a fold of every stored event from scratch.</summary>
public static class ProjectionCheck
{
    public static async Task AssertMatchesFoldAsync(IDocumentStore store, IReadOnlyList<string> companies, IReadOnlyList<PointInTime> points)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.QueryAllRawEvents().ToListAsync(TestContext.Current.CancellationToken);
        var recorded = events.LedgerEventsOnly().Select(e => (e.StreamKey!, e.ToRecordedEntry())).ToList();

        foreach (var point in points)
        {
            var projected = await PostingsQuery.TotalsAsync(store, point.AsOf, point.KnownAt!.Value, party: null, TestContext.Current.CancellationToken);
            var folded = LedgerFold.TotalsAt(recorded, point);
            foreach (var company in companies)
            {
                var expected = BalanceSheet.For(company, folded);
                var actual = BalanceSheet.For(company, projected);
                Assert.True(Same(expected, actual), $"{company} at {point}: expected {Describe(expected)}, projected {Describe(actual)}");
            }

            // What trace and loops follow: the same events, postings and order whether read from the projection or refolded.
            var postedByProjection = await PostingsQuery.PostedEventsAsync(store, point.AsOf, point.KnownAt!.Value, TestContext.Current.CancellationToken);
            var postedByFold = LedgerFold.Steps(recorded, point)
                .Select(step => step.Posted with { Postings = step.Posted.Postings.Where(p => p.Layer != Layer.Holding).ToList() })
                .Where(posted => posted.Postings.Count > 0);
            Assert.Equal(
                string.Join("\n", postedByFold.Select(Describe)),
                string.Join("\n", postedByProjection.Select(Describe)));
        }
    }

    private static bool Same(CompanyBalance a, CompanyBalance b) => Describe(a) == Describe(b);

    private static string Describe(CompanyBalance b) => System.Text.Json.JsonSerializer.Serialize(b);

    private static string Describe(PostedEvent e) =>
        $"{e.EventId} #{e.Sequence} {e.EffectiveOn} {e.DealId}: {string.Join("; ", e.Postings.Select(p => $"{p.Layer} {p.Asset} {p.From}->{p.To} {p.Quantity}"))}";
}
