using NodaTime;

namespace FlowLedger.Domain;

/// <summary>
/// Decides whether a deal can take one more event. The candidate is placed where it belongs in the
/// order of SPEC §2 (after every recorded event of its day) and the whole deal is folded again as
/// known now, so a backdated event is checked against everything that follows it too.
/// </summary>
public static class DealDecision
{
    public static IReadOnlyList<RuleBreak> Check(IReadOnlyList<RecordedEntry> history, RecordedEntry candidate)
    {
        if (candidate.Event is EntryReversed reversal)
        {
            var targetBreak = CheckReversalTarget(history, reversal);
            if (targetBreak is not null)
            {
                return [targetBreak];
            }
        }

        var book = new DealBook();
        foreach (var entry in PointInTime.Latest.Visible([.. history, candidate]))
        {
            var step = book.Apply((IDealEvent)entry.Event);
            if (step.Violations.Count > 0)
            {
                return step.Violations.Select(RuleBreak.Broken).ToList();
            }
        }
        return [];
    }

    private static RuleBreak? CheckReversalTarget(IReadOnlyList<RecordedEntry> history, EntryReversed reversal)
    {
        var target = history.FirstOrDefault(e => e.EventId == reversal.EventId);
        if (target is null)
        {
            return new RuleBreak(Refusal.NotFound, $"Event {reversal.EventId} is not recorded in this deal.");
        }
        if (target.Event is EntryReversed)
        {
            return RuleBreak.Broken($"Event {reversal.EventId} is itself a reversal; reversals cannot be reversed.");
        }
        if (history.Any(e => e.Event is EntryReversed r && r.EventId == reversal.EventId))
        {
            return RuleBreak.Broken($"Event {reversal.EventId} is already reversed.");
        }
        if (reversal.EffectiveOn != target.EffectiveOn)
        {
            return RuleBreak.Broken($"A reversal is effective on its target's day, {target.EffectiveOn:yyyy-MM-dd}, not {reversal.EffectiveOn:yyyy-MM-dd}.");
        }
        return null;
    }
}

/// <summary>
/// Decides a run of new events for one deal, as an import or a busy writer sends them. An event
/// that sorts after everything the deal holds is applied to the deal's running book; only a
/// backdated event or a reversal pays for refolding the whole deal (<see cref="DealDecision.Check"/>).
/// </summary>
public sealed class DealDecider(IEnumerable<RecordedEntry> recorded)
{
    private readonly List<RecordedEntry> _history = recorded.ToList();
    private DealBook? _book;
    private LocalDate? _lastDay;

    public IReadOnlyList<RecordedEntry> History => _history;

    /// <summary>Decides one more event; when it breaks no rule it joins the deal.</summary>
    public IReadOnlyList<RuleBreak> Accept(RecordedEntry candidate)
    {
        var book = _book ??= Refold();
        if (candidate.Event is not EntryReversed && (_lastDay is not { } last || candidate.EffectiveOn >= last))
        {
            var step = book.Apply((IDealEvent)candidate.Event);
            if (step.Violations.Count > 0)
            {
                // Apply may have changed the book before it found the violation: start again from the history.
                _book = null;
                return step.Violations.Select(RuleBreak.Broken).ToList();
            }
            Add(candidate);
            return [];
        }

        var breaks = DealDecision.Check(_history, candidate);
        if (breaks.Count == 0)
        {
            Add(candidate);
            _book = null;
        }
        return breaks;
    }

    private void Add(RecordedEntry candidate)
    {
        _history.Add(candidate);
        if (_lastDay is not { } last || candidate.EffectiveOn > last)
        {
            _lastDay = candidate.EffectiveOn;
        }
    }

    private DealBook Refold()
    {
        var visible = PointInTime.Latest.Visible(_history);
        _lastDay = visible.Count == 0 ? null : visible.Max(e => e.EffectiveOn);
        return DealBook.Fold(visible);
    }
}
