using System.Diagnostics.Metrics;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// The recorder's instruments, on the meter <see cref="MeterName"/>: how often a transaction is decided without a read
/// (<see cref="KnownStreams"/>), and how often a write conflict makes it decide again — after a guess, that is the price
/// of a guess gone stale; after a read, of writers contending for the same deal.
/// </summary>
public sealed class RecorderMetrics
{
    public const string MeterName = "FlowLedger.Recorder";
    public const string Decisions = "flowledger.recorder.decisions";
    public const string Conflicts = "flowledger.recorder.conflicts";

    /// <summary>The tag on both counters: <c>known</c> for a decision on what the node knew, <c>read</c> after a read.</summary>
    public const string Basis = "basis";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _conflicts;

    public RecorderMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _decisions = meter.CreateCounter<long>(Decisions, "{transaction}", "Transactions decided, by what they were decided on");
        _conflicts = meter.CreateCounter<long>(Conflicts, "{transaction}", "Transactions that met a write conflict and were decided again");
    }

    public void Decided(bool guessed) => _decisions.Add(1, BasisTag(guessed));

    public void Conflicted(bool guessed) => _conflicts.Add(1, BasisTag(guessed));

    private static KeyValuePair<string, object?> BasisTag(bool guessed) => new(Basis, guessed ? "known" : "read");
}
