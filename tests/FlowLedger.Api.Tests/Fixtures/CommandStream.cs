using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>
/// Clients that send numbered <c>ServicesPaid</c> commands with idempotency keys and, whatever goes wrong
/// — a refused connection, a cut response, a 503 — send the same request again until it is acknowledged.
/// </summary>
public sealed class CommandStream(HttpClient http, string payer, string payee, int commands, int deals, string dealPrefix)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private int _next = -1;
    private int _failedAttempts;

    /// <summary>The event each acknowledged command was stored as, by command number.</summary>
    public ConcurrentDictionary<int, Guid> Acknowledged { get; } = new();

    /// <summary>The sequence each acknowledged command was stored at, by command number.</summary>
    public ConcurrentDictionary<int, long> Sequences { get; } = new();

    public int FailedAttempts => _failedAttempts;

    public string DescriptionOf(int command) => $"command {command}";

    public Task RunAsync(int clients, CancellationToken ct) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => ClientAsync(ct), ct)));

    private async Task ClientAsync(CancellationToken ct)
    {
        int command;
        while ((command = Interlocked.Increment(ref _next)) < commands)
        {
            while (true)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/deals/{dealPrefix}{command % deals}/events")
                    {
                        Content = JsonContent.Create(new
                        {
                            type = "ServicesPaid", payer, payee, amount = new { amount = command + 1, currency = "USD" },
                            description = DescriptionOf(command), effectiveOn = "2025-03-01",
                        }),
                    };
                    request.Headers.Add("Idempotency-Key", $"{_run}-{command}");
                    using var response = await http.SendAsync(request, ct);
                    var body = await response.Content.ReadAsStringAsync(ct);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        var answer = JsonNode.Parse(body)!;
                        Sequences[command] = answer["sequence"]!.GetValue<long>();
                        Acknowledged[command] = Guid.Parse(answer["eventId"]!.GetValue<string>());
                        break;
                    }
                    Assert.True(response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError,
                        $"command {command}: {(int)response.StatusCode} {body}");
                    Assert.DoesNotContain("already used for a different request", body);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    // The server or its database went away mid-request: the outcome is unknown, so send the same request again.
                }
                Interlocked.Increment(ref _failedAttempts);
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>A SQL LIKE pattern that matches the idempotency keys of this stream, and no other.</summary>
    public string IdempotencyKeyPattern => $"{_run}-%";
}
