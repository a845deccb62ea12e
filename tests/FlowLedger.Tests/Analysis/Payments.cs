using FlowLedger.Projections.Analysis;
using NodaTime;

namespace FlowLedger.Tests.Analysis;

/// <summary>
/// Cash movements written down one event at a time: sequences count up from 1, so the movements are in
/// the order of SPEC §2 as long as each is effective no earlier than the one before.
/// </summary>
internal sealed class Payments
{
    private readonly List<Movement> _movements = [];

    public IReadOnlyList<Movement> Movements => _movements;

    public static Guid EventId(long sequence) => new((int)sequence, 0, 0, new byte[8]);

    public Payments Pay(string from, string to, decimal amount, LocalDate on, string? deal = null, string currency = "USD")
    {
        var sequence = _movements.Count + 1;
        _movements.Add(new Movement(from, to, amount, currency, on, sequence, EventId(sequence), deal));
        return this;
    }
}
