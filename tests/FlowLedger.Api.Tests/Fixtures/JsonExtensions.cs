using System.Text.Json.Nodes;

namespace FlowLedger.Api.Tests.Fixtures;

public static class JsonExtensions
{
    public static JsonObject Without(this JsonObject json, string property)
    {
        var copy = json.DeepClone().AsObject();
        copy.Remove(property);
        return copy;
    }

    /// <summary>Stored events spell out optional fields as null; a client may leave them out.</summary>
    public static JsonObject WithoutNulls(this JsonObject json)
    {
        var copy = json.DeepClone().AsObject();
        foreach (var name in copy.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            copy.Remove(name);
        }
        return copy;
    }
}
