using System.Diagnostics.Metrics;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// The recorder's instruments, on the meter <see cref="MeterName"/>: how often a transaction is decided without a read
/// (<see cref="KnownStreams"/>), how often a write conflict makes it decide again — after a guess, that is the price
/// of a guess gone stale; after a read, of writers contending for the same deal — and how many single commands
/// <see cref="GroupCommit"/> records per transaction.
/// </summary>
public sealed class RecorderMetrics
{
    public const string MeterName = "FlowLedger.Recorder";
    public const string Decisions = "flowledger.recorder.decisions";
    public const string Conflicts = "flowledger.recorder.conflicts";
    public const string GroupedCommands = "flowledger.recorder.grouped_commands";

    /// <summary>The tag on both counters: <c>known</c> for a decision on what the node knew, <c>read</c> after a read.</summary>
    public const string Basis = "basis";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _conflicts;
    private readonly Histogram<int> _grouped;

    public RecorderMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _decisions = meter.CreateCounter<long>(Decisions, "{transaction}", "Transactions decided, by what they were decided on");
        _conflicts = meter.CreateCounter<long>(Conflicts, "{transaction}", "Transactions that met a write conflict and were decided again");
        _grouped = meter.CreateHistogram<int>(GroupedCommands, "{command}", "Single commands the group commit took into one transaction");
    }

    public void Decided(bool guessed) => _decisions.Add(1, BasisTag(guessed));

    public void Conflicted(bool guessed) => _conflicts.Add(1, BasisTag(guessed));

    public void Grouped(int commands) => _grouped.Record(commands);

    private static KeyValuePair<string, object?> BasisTag(bool guessed) => new(Basis, guessed ? "known" : "read");
}
