namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>Test classes share a database across their tests; unique ids keep the tests independent.</summary>
public static class Ids
{
    public static string New(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
