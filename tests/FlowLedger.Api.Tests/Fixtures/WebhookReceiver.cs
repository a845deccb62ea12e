using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>A POST received by <see cref="WebhookReceiver"/>, as the receiver saw it.</summary>
public sealed record ReceivedDelivery(string Signature, long SequenceHeader, string EventHeader, byte[] Body)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
}

/// <summary>
/// A webhook receiver on a loopback port. It answers 503 while <see cref="Refusing"/> is set, or to the
/// first <see cref="RefuseFirst"/> attempts, and 200 otherwise; it keeps every delivery it accepted.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _attempts;

    public ConcurrentQueue<ReceivedDelivery> Accepted { get; } = new();
    public int Attempts => _attempts;
    public int RefuseFirst { get; set; }
    public bool Refusing { get; set; }
    public string Url { get; private set; } = "";

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hook", async (HttpContext context) =>
        {
            var attempt = Interlocked.Increment(ref _attempts);
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (Refusing || attempt <= RefuseFirst)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }
            Accepted.Enqueue(new ReceivedDelivery(
                context.Request.Headers["X-FlowLedger-Signature"].ToString(),
                long.Parse(context.Request.Headers["X-FlowLedger-Sequence"].ToString(), System.Globalization.CultureInfo.InvariantCulture),
                context.Request.Headers["X-FlowLedger-Event"].ToString(),
                body.ToArray()));
            return Results.Ok();
        });
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver._app.StartAsync(TestContext.Current.CancellationToken);
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Url = $"{address}/hook";
        return receiver;
    }

    /// <summary>Waits until <paramref name="done"/> holds of the accepted deliveries, or fails after a minute.</summary>
    public async Task<IReadOnlyList<ReceivedDelivery>> WaitForAsync(Func<IReadOnlyList<ReceivedDelivery>, bool> done, string what)
    {
        await PollAsync(() => done(Accepted.ToList()), what);
        return Accepted.ToList();
    }

    /// <summary>Waits until the app has tried to deliver at least once, accepted or not.</summary>
    public Task WaitForAttemptAsync() => PollAsync(() => Attempts > 0, "an attempt");

    private async Task PollAsync(Func<bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!done())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"The receiver never got {what}; it accepted {Accepted.Count} deliveries of {Attempts} attempts.");
            }
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
