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

            // What trace and loops follow: the same postings, events and order whether read from the projection or refolded.
            var steps = LedgerFold.Steps(recorded, point).ToList();
            var reads = new[]
            {
                new LayerRead(Layer.Cash), new LayerRead(Layer.Cash, Assets.Cash("USD")), new LayerRead(Layer.Cash, Assets.Cash("USD"), CompaniesOnly: true),
                new LayerRead(Layer.Commitment),
            };
            foreach (var (layer, asset, companiesOnly, _) in reads)
            {
                var postedByFold = steps
                    .Select(step => step.Posted)
                    .SelectMany(posted => posted.Postings
                        .Where(p => p.Layer == layer && (asset is null || p.Asset == asset))
                        .Where(p => !companiesOnly || (p.From != Parties.External && p.To != Parties.External))
                        .Select(p => new LayerPosting(posted.EventId, posted.Sequence, posted.EffectiveOn, posted.DealId, p)));
                var postedByProjection = (await PostingsQuery.LayerPostingChunksAsync(store, new LayerRead(layer, asset, companiesOnly, PostingDetail.All), point.AsOf, point.KnownAt!.Value, TestContext.Current.CancellationToken)
                    .ToListAsync(TestContext.Current.CancellationToken)).SelectMany(chunk => chunk.ToArray());
                Assert.Equal(
                    string.Join("\n", postedByFold.Select(Describe)),
                    string.Join("\n", postedByProjection.Select(Describe)));
            }
        }
    }

    private static bool Same(CompanyBalance a, CompanyBalance b) => Describe(a) == Describe(b);

    private static string Describe(CompanyBalance b) => System.Text.Json.JsonSerializer.Serialize(b);

    private static string Describe(LayerPosting e) =>
        $"{e.EventId} #{e.Sequence} {e.EffectiveOn} {e.DealId}: {e.Asset} {e.From}->{e.To} {e.Quantity}";
}
