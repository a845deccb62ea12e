using FlowLedger.Domain;

namespace FlowLedger.Projections.Balances;

/// <summary>Deal histories already in memory, which a projection may use instead of reading the stream again.</summary>
public interface IKnownHistories
{
    /// <summary>
    /// The deal's events before <paramref name="version"/>, in version order, or null when they are not known. A
    /// stream's events never change once stored, so any history known to reach that far is exact up to it.
    /// </summary>
    IEnumerable<RecordedEntry>? Before(string dealId, long version);
}
