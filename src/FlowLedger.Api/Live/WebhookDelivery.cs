using System.Net.Http.Headers;
using System.Text;
using Marten;

namespace FlowLedger.Api.Live;

/// <summary>One update owed to one webhook. Wolverine keeps it durably until the receiver accepts it.</summary>
public sealed record DeliverWebhook(Guid WebhookId, long Sequence, string Topic, string Kind, string Json);

/// <summary>A receiver that did not accept a delivery; Wolverine retries it with back-off.</summary>
public sealed class WebhookRefusedException(string message) : Exception(message);

public static class DeliverWebhookHandler
{
    public const string HttpClientName = "webhooks";

    /// <summary>
    /// Posts <c>{"sequence", "topic", "kind", "data"}</c>, signed. A webhook deleted meanwhile gets nothing more;
    /// anything but a 2xx answer throws, so the delivery is retried (at least once; receivers de-duplicate by sequence).
    /// </summary>
    public static async Task Handle(DeliverWebhook delivery, IQuerySession session, IHttpClientFactory clients, CancellationToken ct)
    {
        if (await session.LoadAsync<Webhook>(delivery.WebhookId, ct) is not { } webhook)
        {
            return;
        }
        var body = Encoding.UTF8.GetBytes(
            $$"""{"sequence":{{delivery.Sequence}},"topic":"{{delivery.Topic}}","kind":"{{delivery.Kind}}","data":{{delivery.Json}}}""");
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-FlowLedger-Signature", webhook.Sign(body));
        request.Headers.Add("X-FlowLedger-Sequence", delivery.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-FlowLedger-Event", delivery.Kind);
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new WebhookRefusedException($"{webhook.Url} answered {(int)response.StatusCode} to the update of sequence {delivery.Sequence}.");
        }
    }
}
