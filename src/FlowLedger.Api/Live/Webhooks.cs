using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FlowLedger.Api.Ledger;
using Marten;
using NodaTime;
using Wolverine.Http;

namespace FlowLedger.Api.Live;

/// <summary>A receiver of live updates by HTTP POST, signed with its own secret.</summary>
public sealed record Webhook(Guid Id, string Url, IReadOnlyList<string> Topics, string Secret, Instant CreatedAt)
{
    public TopicSet TopicSet => TopicSet.Parse(Topics);

    /// <summary>What GET shows: never the secret.</summary>
    public sealed record View(Guid Id, string Url, IReadOnlyList<string> Topics, Instant CreatedAt);

    public View ToView() => new(Id, Url, Topics, CreatedAt);

    /// <summary><c>sha256=</c> and the hex HMAC-SHA256 of the body under the webhook's secret (SPEC §8).</summary>
    public string Sign(byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body));
}

/// <summary>POST, GET and DELETE /api/webhooks (SPEC §8).</summary>
public static class WebhooksEndpoints
{
    public const int MaxSecretLength = 256;

    [WolverinePost("/api/webhooks", OperationId = "AddWebhook")]
    [Tags("Subscriptions")]
    public static async Task<IResult> Post(HttpContext context, IDocumentSession session, IClock clock, CancellationToken ct)
    {
        var body = LedgerJson.ParseObject(await RequestContext.ReadBodyAsync(context.Request, ct));
        var url = StringField(body, "url", "the address to POST updates to");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
        {
            throw new MalformedRequestException($"url '{url}' is not an absolute http or https address.");
        }
        var topics = body["topics"] is JsonArray list
            ? list.Select(t => t is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new MalformedRequestException("topics must be strings.")).ToList()
            : [StringField(body, "topics", "a comma-separated list or an array of events, company:{id}, deal:{id}, loops")];
        var parsed = TopicSet.Parse(topics);
        var secret = StringField(body, "secret", "the key the deliveries are signed with");
        if (secret.Length > MaxSecretLength)
        {
            throw new MalformedRequestException($"secret must be at most {MaxSecretLength} characters.");
        }

        var webhook = new Webhook(Guid.NewGuid(), address.ToString(), parsed.All.Select(t => t.ToString()).ToList(), secret, clock.GetCurrentInstant());
        session.Store(webhook);
        await session.SaveChangesAsync(ct);
        return Results.Created($"/api/webhooks/{webhook.Id}", webhook.ToView());
    }

    [WolverineGet("/api/webhooks", OperationId = "ListWebhooks")]
    [Tags("Subscriptions")]
    public static async Task<IReadOnlyList<Webhook.View>> Get(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Webhook>().ToListAsync(ct)).OrderBy(w => w.CreatedAt).Select(w => w.ToView()).ToList();

    [WolverineDelete("/api/webhooks/{id}", OperationId = "DeleteWebhook")]
    [Tags("Subscriptions")]
    public static async Task<IResult> Delete(Guid id, IDocumentSession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Webhook>(id, ct) is null)
        {
            return Problems.NotFound($"No webhook '{id}'.");
        }
        session.Delete<Webhook>(id);
        await session.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static string StringField(JsonObject body, string name, string meaning) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0
            ? text
            : throw new MalformedRequestException($"\"{name}\" is required: {meaning}.");
}
