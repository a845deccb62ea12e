using NodaTime;

namespace FlowLedger.Domain;

/// <summary>An event as the store recorded it: its identity, global sequence and recorded time.</summary>
public sealed record RecordedEntry(Guid EventId, long Sequence, Instant RecordedAt, ILedgerEvent Event)
{
    /// <summary>
    /// Sequences from here up stand for events not stored yet, which the store has not numbered:
    /// they sort after every stored event, which is where they will land.
    /// </summary>
    public const long Unstored = long.MaxValue / 2;

    public LocalDate EffectiveOn => Event.EffectiveOn;
}

/// <summary>The two time axes every query takes (SPEC §2).</summary>
public readonly record struct PointInTime(LocalDate? AsOf, Instant? KnownAt)
{
    public static readonly PointInTime Latest = new(null, null);

    /// <summary>
    /// The entries this point sees, in the order of every computation: (effectiveOn, sequence).
    /// An entry is visible when it was effective by <see cref="AsOf"/>, recorded by <see cref="KnownAt"/>,
    /// and not reversed by a reversal recorded by <see cref="KnownAt"/> (whatever the reversal's own date).
    /// </summary>
    public IReadOnlyList<RecordedEntry> Visible(IEnumerable<RecordedEntry> entries)
    {
        var known = KnownAt is { } knownAt
            ? entries.Where(e => e.RecordedAt <= knownAt).ToList()
            : entries.ToList();
        var asOfDay = AsOf;
        var reversed = known.Select(e => e.Event).OfType<EntryReversed>().Select(r => r.EventId).ToHashSet();
        return known
            .Where(e => e.Event is not EntryReversed && !reversed.Contains(e.EventId))
            .Where(e => asOfDay is not { } asOf || e.EffectiveOn <= asOf)
            .OrderBy(e => e.EffectiveOn)
            .ThenBy(e => e.Sequence)
            .ToList();
    }
}
