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
