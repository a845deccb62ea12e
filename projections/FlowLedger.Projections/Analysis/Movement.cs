using FlowLedger.Domain;
using FlowLedger.Projections.Balances;
using NodaTime;

namespace FlowLedger.Projections.Analysis;

/// <summary>
/// Money that moved from one party to another (either may be <see cref="Parties.External"/>), with the
/// event that moved it. Analyses take movements in the order of SPEC §2: (effectiveOn, sequence).
/// </summary>
public sealed record Movement(
    string From, string To, decimal Amount, string Currency, LocalDate EffectiveOn, long Sequence, Guid EventId, string? DealId);

public static class LedgerMovements
{
    /// <summary>The cash postings of the visible events, in the order the steps come in.</summary>
    public static IEnumerable<Movement> Cash(IEnumerable<FoldStep> steps) => Cash(steps.Select(step => step.Posted));

    /// <summary>The cash postings of the events, in the order they come in.</summary>
    public static IEnumerable<Movement> Cash(IEnumerable<PostedEvent> events) =>
        from posted in events
        from posting in posted.Postings
        where posting.Layer == Layer.Cash
        select Of(new LayerPosting(posted.EventId, posted.Sequence, posted.EffectiveOn, posted.DealId, posting));

    /// <summary>A cash posting as the money it moved.</summary>
    public static Movement Of(LayerPosting cash) => new(
        cash.From, cash.To, cash.Quantity, Assets.CurrencyOf(cash.Asset),
        cash.EffectiveOn, cash.Sequence, cash.EventId, cash.DealId);
}
