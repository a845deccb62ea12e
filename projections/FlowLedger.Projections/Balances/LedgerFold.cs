using FlowLedger.Domain;

namespace FlowLedger.Projections.Balances;

/// <summary>
/// The postings at a point in time computed the slow way, by folding every visible event from
/// scratch. It is the yardstick the postings projection is held to, and what a replay prints.
/// </summary>
public static class LedgerFold
{
    public static IReadOnlyList<PostingTotal> TotalsAt(IEnumerable<(string StreamKey, RecordedEntry Entry)> events, PointInTime at)
    {
        var postings = new List<Posting>();
        foreach (var stream in events.GroupBy(e => e.StreamKey))
        {
            var visible = at.Visible(stream.Select(e => e.Entry));
            if (visible is [{ Event: CompanyRegistered }, ..])
            {
                postings.AddRange(visible.SelectMany(e => RegistrationPostings.Of((CompanyRegistered)e.Event)));
                continue;
            }
            var book = new DealBook();
            postings.AddRange(visible.SelectMany(e => book.Apply((IDealEvent)e.Event).Postings));
        }
        return postings
            .GroupBy(p => (p.Layer, p.Asset, p.From, p.To))
            .Select(g => new PostingTotal(g.Key.Layer, g.Key.Asset, g.Key.From, g.Key.To, g.Sum(p => p.Quantity)))
            .ToList();
    }
}
