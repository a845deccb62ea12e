using FlowLedger.Domain;

namespace FlowLedger.Tests.Builders;

/// <summary>Expected postings, written the way SPEC §4 states them: layer, asset, from, to, quantity.</summary>
internal static class Post
{
    public static Posting Cash(string from, string to, Money money) =>
        new(Layer.Cash, money.Currency, from, to, money.Amount);

    public static Posting Commitment(string from, string to, Money money) =>
        new(Layer.Commitment, money.Currency, from, to, money.Amount);

    public static Posting Holding(string asset, string from, string to, decimal quantity) =>
        new(Layer.Holding, asset, from, to, quantity);
}
