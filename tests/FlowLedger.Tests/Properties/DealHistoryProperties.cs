using FlowLedger.Domain;
using FlowLedger.Tests.Builders;
using FsCheck.Xunit;

namespace FlowLedger.Tests.Properties;

/// <summary>What holds for every deal history the ledger accepts, seen from any point in time.</summary>
public sealed class DealHistoryProperties
{
    [Property(Arbitrary = [typeof(DealHistories)])]
    public void Every_asset_of_every_layer_sums_to_zero_over_all_parties(DealHistory history)
    {
        var holdings = new Dictionary<(Layer Layer, string Asset, string Party), decimal>();
        foreach (var posting in Books.PostingsOf(history.Visible))
        {
            Add(holdings, (posting.Layer, posting.Asset, posting.To), posting.Quantity);
            Add(holdings, (posting.Layer, posting.Asset, posting.From), -posting.Quantity);
        }

        Assert.All(
            holdings.GroupBy(h => (h.Key.Layer, h.Key.Asset)),
            asset => Assert.Equal(0m, asset.Sum(party => party.Value)));
    }

    [Property(Arbitrary = [typeof(DealHistories)])]
    public void Every_posting_moves_a_positive_quantity_between_two_different_parties(DealHistory history) =>
        Assert.All(Books.PostingsOf(history.Visible), posting =>
        {
            Assert.True(posting.Quantity > 0, $"{posting} moves nothing or less");
            Assert.NotEqual(posting.From, posting.To);
        });

    [Property(Arbitrary = [typeof(DealHistories)])]
    public void An_accepted_history_breaks_no_rule_at_any_point_in_time(DealHistory history)
    {
        var book = new DealBook();

        Assert.All(history.Visible, entry => Assert.Empty(book.Apply((IDealEvent)entry.Event).Violations));
    }

    [Property(Arbitrary = [typeof(DealHistories)])]
    public void An_outstanding_commitment_is_never_below_zero_and_always_equals_committed_minus_released(DealHistory history)
    {
        var book = new DealBook();
        foreach (var entry in history.Visible)
        {
            book.Apply((IDealEvent)entry.Event);

            Assert.All(book.Commitments, line =>
            {
                Assert.True(line.Outstanding >= 0, $"{line.Flow} is {line.Outstanding} outstanding after #{entry.Sequence}");
                Assert.Equal(line.Committed - line.Released, line.Outstanding);
            });
        }
    }

    [Property(Arbitrary = [typeof(DealHistories)])]
    public void The_commitment_postings_between_two_parties_net_to_their_outstanding_commitments(DealHistory history)
    {
        var book = new DealBook();
        var posted = new Dictionary<Flow, decimal>();
        foreach (var entry in history.Visible)
        {
            foreach (var posting in book.Apply((IDealEvent)entry.Event).Postings.Where(p => p.Layer == Layer.Commitment))
            {
                Add(posted, new Flow(posting.From, posting.To, Assets.CurrencyOf(posting.Asset)), posting.Quantity);
            }
        }

        Assert.All(book.Commitments, line =>
        {
            var back = line.Flow with { From = line.Flow.To, To = line.Flow.From };
            Assert.Equal(
                line.Outstanding - book.Outstanding(back.From, back.To, back.Currency),
                posted.GetValueOrDefault(line.Flow) - posted.GetValueOrDefault(back));
        });
    }

    [Property(Arbitrary = [typeof(DealHistories)])]
    public void Folding_the_same_entries_in_any_input_order_gives_the_same_postings(ShuffledDealHistory shuffled) =>
        Assert.Equal(
            Books.PostingsOf(shuffled.History.Visible),
            Books.PostingsOf(shuffled.History.At.Visible(shuffled.Shuffled)));

    private static void Add<TKey>(Dictionary<TKey, decimal> totals, TKey key, decimal quantity) where TKey : notnull =>
        totals[key] = totals.GetValueOrDefault(key) + quantity;
}
