using FlowLedger.Domain;

namespace FlowLedger.Tests.Builders;

/// <summary>Expected postings, written the way SPEC §4 states them: layer, asset, from, to, quantity.</summary>
internal static class Post
{
    public static Posting Cash(string from, string to, Money money) =>
        new(Layer.Cash, money.Currency, from, to, money.Amount);

    /// <summary>A promise made: the obligor owes the obligee.</summary>
    public static Posting Commitment(string obligor, string obligee, Money money) =>
        new(Layer.Commitment, Assets.Promise(obligor, money.Currency), obligor, obligee, money.Amount);

    /// <summary>A promise settled or released: the obligee gives the obligor's promise back.</summary>
    public static Posting Release(string obligee, string obligor, Money money) =>
        new(Layer.Commitment, Assets.Promise(obligor, money.Currency), obligee, obligor, money.Amount);

    public static Posting Holding(string asset, string from, string to, decimal quantity) =>
        new(Layer.Holding, asset, from, to, quantity);
}
