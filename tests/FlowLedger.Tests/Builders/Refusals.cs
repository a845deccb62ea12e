using FlowLedger.Domain;

namespace FlowLedger.Tests.Builders;

internal static class Refusals
{
    /// <summary>Exactly one rule was broken, and it is refused as <paramref name="kind"/>.</summary>
    public static void AssertRefusedAs(this IReadOnlyList<RuleBreak> breaks, Refusal kind) =>
        Assert.Equal(kind, Assert.Single(breaks).Kind);
}
