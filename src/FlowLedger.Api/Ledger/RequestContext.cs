using System.Text;
using Microsoft.Net.Http.Headers;

namespace FlowLedger.Api.Ledger;

/// <summary>What a write request carries besides its body: who sends it and under which idempotency key.</summary>
public static class RequestContext
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>Stored with every event as recordedBy: the name of the API key (SPEC §10), or "anonymous" in open mode.</summary>
    public static string RecordedBy(HttpContext context) => context.User.Identity?.Name ?? "anonymous";

    public static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        RequireContentType(request, "application/json");
        using var reader = new StreamReader(request.Body, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
        return await reader.ReadToEndAsync(ct);
    }

    /// <summary>A body labelled as something else (a form, XML, plain text) is refused rather than read as JSON anyway.</summary>
    public static void RequireContentType(HttpRequest request, params string[] accepted)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        if (mediaType is null || !accepted.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            throw new UnsupportedContentTypeException(
                $"Content-Type '{request.ContentType}' is not accepted here; send {string.Join(" or ", accepted)}.");
        }
    }

    /// <summary>The same key with the same method, path and body is the same request; anything else under that key is a conflict.</summary>
    public static IdempotencyClaim? IdempotencyOf(HttpRequest request, string body)
    {
        var key = request.Headers[IdempotencyHeader].ToString();
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }
        if (key.Length > 200)
        {
            throw new MalformedRequestException($"{IdempotencyHeader} is longer than 200 characters.");
        }
        return IdempotencyClaim.For(key, request.Method, request.Path, body);
    }
}

/// <summary>The body is not in a format the endpoint reads: answered with 415 and nothing written.</summary>
public sealed class UnsupportedContentTypeException(string message) : Exception(message);
