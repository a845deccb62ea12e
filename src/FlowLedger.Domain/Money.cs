using System.Text.RegularExpressions;

namespace FlowLedger.Domain;

/// <summary>An exact amount in one currency. Never floating point; no FX conversion anywhere.</summary>
public readonly partial record struct Money(decimal Amount, string Currency)
{
    public static bool IsCurrencyCode(string? code) => code is not null && CurrencyCode().IsMatch(code);

    public Money Times(long factor) => this with { Amount = Amount * factor };

    public override string ToString() => $"{Amount} {Currency}";

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}

/// <summary>A quantity of contracted capacity, such as 6 GW of accelerators.</summary>
public readonly record struct Capacity(decimal Value, string Unit);
