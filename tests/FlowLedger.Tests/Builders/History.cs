using FlowLedger.Domain;
using NodaTime;
using NodaTime.Testing;

namespace FlowLedger.Tests.Builders;

/// <summary>
/// The recorded events of one deal, as the store would hold them: sequences count up from 1 and every
/// entry (or candidate) is recorded one minute after the previous one, starting at <see cref="Start"/>.
/// </summary>
internal sealed class History
{
    public static readonly Instant Start = Instant.FromUtc(2025, 6, 1, 9, 0);
    public static readonly Duration Tick = Duration.FromMinutes(1);

    private readonly FakeClock _clock = new(Start, Tick);
    private readonly List<RecordedEntry> _entries = [];

    public IReadOnlyList<RecordedEntry> Entries => _entries;

    public RecordedEntry Record(ILedgerEvent e)
    {
        var entry = Next(e);
        _entries.Add(entry);
        return entry;
    }

    /// <summary>What the ledger answers to one more event: the rules it would break, none when accepted.</summary>
    public IReadOnlyList<RuleBreak> Decide(IDealEvent e) => DealDecision.Check(_entries, Next(e));

    /// <summary>Records the event only if the write side would accept it: it passes every static and every deal rule.</summary>
    public void RecordIfAccepted(IDealEvent e)
    {
        if (EventRules.Check(e).Count == 0 && Decide(e).Count == 0)
        {
            Record(e);
        }
    }

    private RecordedEntry Next(ILedgerEvent e)
    {
        var sequence = _entries.Count + 1;
        return new RecordedEntry(new Guid(sequence, 0, 0, new byte[8]), sequence, _clock.GetCurrentInstant(), e);
    }
}
