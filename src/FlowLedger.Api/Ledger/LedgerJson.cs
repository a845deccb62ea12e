using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FlowLedger.Domain;
using NodaTime;
using NodaTime.Utility;
using NodaTime.Serialization.SystemTextJson;

namespace FlowLedger.Api.Ledger;

/// <summary>
/// One JSON dialect for the wire and the store: camelCase names, kebab-case enums, ISO dates and
/// instants, exact decimals. Events are stored exactly as the API shows them.
/// </summary>
public static class LedgerJson
{
    public static void ApplyConventions(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Converters.Insert(0, new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
        options.ConfigureForNodaTime(DateTimeZoneProviders.Tzdb);
    }

    /// <summary>For what the ledger writes itself, outside a request: stored and pushed states.</summary>
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions();
        ApplyConventions(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>For request bodies: a missing required field, an unknown field or a wrong type is an error, never a guess.</summary>
    public static readonly JsonSerializerOptions Strict = CreateStrict();

    private static JsonSerializerOptions CreateStrict()
    {
        var options = new JsonSerializerOptions
        {
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            MaxDepth = 16,
        };
        ApplyConventions(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    public static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>
    /// Reads one event from a request object whose "type" names it. Envelope fields (such as
    /// "dealId" or "expectedVersion") are taken out by the caller before this is called.
    /// </summary>
    public static ILedgerEvent ReadEvent(JsonObject body)
    {
        var typeName = body["type"] is JsonValue value && value.TryGetValue<string>(out var name)
            ? name
            : throw new MalformedRequestException("\"type\" is required: the name of the event to record, such as \"InvestmentFunded\".");
        if (!EventCatalog.Types.TryGetValue(typeName, out var type))
        {
            throw new MalformedRequestException(
                $"Unknown event type '{typeName}'. Known types: {string.Join(", ", EventCatalog.Types.Keys)}.");
        }
        var fields = body.DeepClone().AsObject();
        fields.Remove("type");
        try
        {
            return (ILedgerEvent)(fields.Deserialize(type, Strict)
                ?? throw new MalformedRequestException($"The {typeName} body is empty."));
        }
        catch (JsonException ex)
        {
            throw new MalformedRequestException($"The {typeName} body is not valid: {Describe(ex)}");
        }
    }

    /// <summary>Reads a plain request body (not an event) with the same strictness.</summary>
    public static T ReadBody<T>(JsonObject body)
    {
        try
        {
            return body.Deserialize<T>(Strict) ?? throw new MalformedRequestException("The body is empty.");
        }
        catch (JsonException ex)
        {
            throw new MalformedRequestException($"The body is not valid: {Describe(ex)}");
        }
    }

    public static JsonObject ParseObject(string json)
    {
        try
        {
            var body = JsonNode.Parse(json, NodeOptions, DocumentOptions) as JsonObject
                ?? throw new MalformedRequestException("The body must be a JSON object.");
            RefuseNul(body);
            return body;
        }
        catch (JsonException ex)
        {
            throw new MalformedRequestException($"The body is not valid JSON: {Describe(ex)}");
        }
    }

    /// <summary>
    /// A NUL character is never part of a ledger's text, PostgreSQL cannot store one in jsonb, and
    /// NodaTime reads it as the end of a date ("2025-01-01\u0000" would pass as 2025-01-01).
    /// </summary>
    private static void RefuseNul(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    if (name.Contains('\0'))
                    {
                        throw new MalformedRequestException("A property name contains a NUL character.");
                    }
                    RefuseNul(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    RefuseNul(item);
                }
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Contains('\0'):
                throw new MalformedRequestException("A text contains a NUL character.");
        }
    }

    /// <summary>Takes an optional envelope field out of a request object.</summary>
    public static T? TakeOptional<T>(JsonObject body, string field)
    {
        var node = body[field];
        body.Remove(field);
        if (node is null)
        {
            return default;
        }
        try
        {
            return node.Deserialize<T>(Strict);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new MalformedRequestException($"\"{field}\" has the wrong type.");
        }
    }

    /// <summary>Exception text of System.Text.Json names the path but also the CLR types; keep what helps a client.</summary>
    private static string Describe(JsonException ex)
    {
        var message = ex.InnerException is FormatException or InvalidNodaDataException or ArgumentException
            ? ex.InnerException.Message
            : ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        var core = cut > 0 ? message[..cut] : message;
        return ex.Path is { Length: > 0 } path && !core.Contains(path, StringComparison.Ordinal) ? $"{core} (at {path})" : core;
    }
}

/// <summary>The client sent something that cannot be read: answered with 400 and nothing written.</summary>
public sealed class MalformedRequestException(string message) : Exception(message);
