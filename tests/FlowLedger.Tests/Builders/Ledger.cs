using FlowLedger.Domain;
using NodaTime;

namespace FlowLedger.Tests.Builders;

/// <summary>The companies, days and money the tests talk about.</summary>
internal static class Ledger
{
    public const string Nvidia = "nvidia";
    public const string OpenAi = "openai";
    public const string Amd = "amd";
    public const string Oracle = "oracle";

    /// <summary>A day of 2025, the year every test history happens in.</summary>
    public static LocalDate Day(int month, int day = 1) => new(2025, month, day);

    public static Money Usd(decimal amount) => new(amount, "USD");

    public static Money Eur(decimal amount) => new(amount, "EUR");
}
