using FlowLedger.Domain;

namespace FlowLedger.Tests.Builders;

/// <summary>Deal books in a given state, and what to assert about the steps applied to them.</summary>
internal static class Books
{
    /// <summary>A book that has applied <paramref name="history"/> in order, each event within the rules.</summary>
    public static DealBook After(params IDealEvent[] history)
    {
        var book = new DealBook();
        foreach (var e in history)
        {
            Assert.Empty(book.Apply(e).Violations);
        }
        return book;
    }

    /// <summary>The postings of folding entries already in the order of SPEC §2, event after event.</summary>
    public static IReadOnlyList<Posting> PostingsOf(IEnumerable<RecordedEntry> orderedEntries)
    {
        var book = new DealBook();
        return orderedEntries.SelectMany(entry => book.Apply((IDealEvent)entry.Event).Postings).ToList();
    }

    /// <summary>The commitment still outstanding from one party to another in a currency (zero when none was made).</summary>
    public static decimal Outstanding(this DealBook book, string from, string to, string currency = "USD") =>
        book.Commitments.SingleOrDefault(line => line.Flow == new Flow(from, to, currency))?.Outstanding ?? 0m;

    /// <summary>The step kept every rule and posted exactly <paramref name="expected"/>, in any order.</summary>
    public static void AssertPosts(this DealStep step, params Posting[] expected)
    {
        Assert.Empty(step.Violations);
        Assert.Equal(InStableOrder(expected), InStableOrder(step.Postings));
    }

    /// <summary>The step broke a rule and, being refused, moved nothing.</summary>
    public static void AssertRefusedWithoutPostings(this DealStep step)
    {
        Assert.NotEmpty(step.Violations);
        Assert.Empty(step.Postings);
    }

    private static IEnumerable<Posting> InStableOrder(IEnumerable<Posting> postings) =>
        postings.OrderBy(p => p.ToString(), StringComparer.Ordinal);
}
