using FlowLedger.Domain;
using NodaTime;

namespace FlowLedger.Projections.Balances;

/// <summary>One visible event of a replay with the postings it made.</summary>
public sealed record FoldStep(string StreamKey, RecordedEntry Entry, IReadOnlyList<Posting> Postings)
{
    public PostedEvent Posted => new(Entry.EventId, Entry.Sequence, Entry.EffectiveOn, Entry.Event is IDealEvent ? StreamKey : null, Postings);
}

/// <summary>What the analyses need of an event: where it stands in the order of SPEC §2, its deal, its postings.</summary>
public sealed record PostedEvent(Guid EventId, long Sequence, LocalDate EffectiveOn, string? DealId, IReadOnlyList<Posting> Postings);

/// <summary>
/// The ledger computed the slow way, by folding every visible event from scratch in the order of
/// SPEC §2. It is the yardstick the postings projection is held to, and what a replay streams.
/// </summary>
public static class LedgerFold
{
    public static IEnumerable<FoldStep> Steps(IEnumerable<(string StreamKey, RecordedEntry Entry)> events, PointInTime at)
    {
        var visible = events
            .GroupBy(e => e.StreamKey)
            .SelectMany(stream => at.Visible(stream.Select(e => e.Entry)).Select(entry => (stream.Key, Entry: entry)))
            .OrderBy(e => e.Entry.EffectiveOn)
            .ThenBy(e => e.Entry.Sequence);
        var books = new Dictionary<string, DealBook>(StringComparer.Ordinal);
        foreach (var (streamKey, entry) in visible)
        {
            var postings = entry.Event is CompanyRegistered registration
                ? RegistrationPostings.Of(registration)
                : (books.TryGetValue(streamKey, out var book) ? book : books[streamKey] = new DealBook()).Apply((IDealEvent)entry.Event).Postings;
            yield return new FoldStep(streamKey, entry, postings);
        }
    }

    public static IReadOnlyList<PostingTotal> TotalsAt(IEnumerable<(string StreamKey, RecordedEntry Entry)> events, PointInTime at)
    {
        var totals = new RunningTotals();
        foreach (var step in Steps(events, at))
        {
            totals.Add(step.Postings);
        }
        return totals.ToList();
    }
}

/// <summary>Posting totals kept up to date one posting at a time.</summary>
public sealed class RunningTotals
{
    private readonly Dictionary<(Layer Layer, string Asset, string From, string To), decimal> _totals = new();

    public void Add(IEnumerable<Posting> postings)
    {
        foreach (var p in postings)
        {
            var key = (p.Layer, p.Asset, p.From, p.To);
            _totals[key] = _totals.GetValueOrDefault(key) + p.Quantity;
        }
    }

    public IReadOnlyList<PostingTotal> ToList() =>
        _totals.Select(t => new PostingTotal(t.Key.Layer, t.Key.Asset, t.Key.From, t.Key.To, t.Value)).ToList();
}
