using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlowLedger.Benchmarks;

/// <summary>
/// <c>--baseline</c>: P2's and P7's load, from the same <see cref="LiveLoad"/>, against a server that does almost
/// nothing: no database, no daemon, no paging. A command is answered 201 at once and its event, in the app's shape
/// (about 450 bytes, with <c>recordedAt</c>), goes straight to every SSE connection's queue; each connection writes
/// and flushes whatever is queued, as the app's does. What it measures is what this machine and this harness allow
/// any server: the floor under the app's P2 and P7.
/// </summary>
public static class Baseline
{
    public const string ServeFlag = "--serve-baseline";

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        var port = options.Port > 0 ? options.Port : AppServer.FreePort(5201);
        var baseUrl = $"http://127.0.0.1:{port}";
        // The server runs apart, as the app does, with the app's server GC, so that the CPU figures split the same way.
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        info.ArgumentList.Add(typeof(Baseline).Assembly.Location);
        info.ArgumentList.Add(ServeFlag);
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Environment["DOTNET_gcServer"] = "1";
        using var server = Process.Start(info) ?? throw new InvalidOperationException("Could not start the baseline server.");
        try
        {
            using var http = new HttpClient();
            await AppServer.WaitHealthyAsync(server, baseUrl, http, TimeSpan.FromSeconds(30), ct);
            Console.WriteLine($"Baseline server (no database) on {baseUrl}, pid {server.Id}");
            var load = new LiveLoad(http, baseUrl, "co-0001", "co-0002");
            await load.SendAsync("warm", 50, TimeSpan.FromSeconds(2), sentAt: null, ct);
            var duration = TimeSpan.FromSeconds(options.LiveSeconds);
            List<string> lines = ["| measure | result |", "|---|---|"];

            var cpu = CpuMeter.Start("server", server.Id, postgresCpu: null);
            var (commands, _) = await load.SendAsync("p2", BenchmarkRun.P2Rate, duration, sentAt: null, ct);
            lines.Add($"| P2 load, {BenchmarkRun.P2Rate}/s for {options.LiveSeconds} s: commands | {commands.Describe()} |");
            lines.Add($"| P2 load: CPU | {cpu.PerCommand(commands.Count)} |");

            await using var subscribers = await LiveLoad.Subscribers.OpenAsync(baseUrl, options.Subscribers, ct);
            cpu = CpuMeter.Start("server", server.Id, postgresCpu: null);
            (commands, _) = await load.SendAsync("p7", BenchmarkRun.P7Rate, duration, subscribers.SentAt, ct);
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
            lines.Add($"| P7 load, {subscribers.Connected:N0} subscribers, {BenchmarkRun.P7Rate}/s for {options.LiveSeconds} s: commands | {commands.Describe()} |");
            lines.Add($"| P7 load: delivery from the recorded instant | {subscribers.SinceRecorded.Describe()} |");
            lines.Add($"| P7 load: delivery from the send | {subscribers.Latencies.Describe()} |");
            lines.Add($"| P7 load: CPU (the last 5 s idle) | {cpu.PerCommand(commands.Count)} |");
            Console.WriteLine();
            lines.ForEach(Console.WriteLine);
            return 0;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync(CancellationToken.None);
        }
    }

    public static async Task<int> ServeAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        var connections = new List<Channel<byte[]>>();
        long sequence = 0;

        app.MapGet("/health", () => Results.Ok());
        app.MapPost("/api/deals/{deal}/events", async (string deal, HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var number = Interlocked.Increment(ref sequence);
            var view = new JsonObject
            {
                ["eventId"] = Guid.NewGuid(), ["sequence"] = number, ["type"] = "ServicesPaid", ["dealId"] = deal,
                ["effectiveOn"] = "2025-12-31", ["recordedAt"] = DateTime.UtcNow.ToString("O"), ["recordedBy"] = null,
                ["version"] = 1, ["data"] = body,
            };
            var text = Encoding.UTF8.GetBytes($"id: {number}\nevent: event\ndata: {view.ToJsonString()}\n\n");
            Channel<byte[]>[] all;
            lock (connections)
            {
                all = [.. connections];
            }
            foreach (var connection in all)
            {
                connection.Writer.TryWrite(text);
            }
            return Results.Json(new { sequence = number }, statusCode: 201);
        });
        app.MapGet("/api/subscriptions/stream", async (HttpContext context, CancellationToken ct) =>
        {
            var queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
            lock (connections)
            {
                connections.Add(queue);
            }
            try
            {
                context.Response.ContentType = "text/event-stream";
                await context.Response.Body.FlushAsync(ct);
                while (await queue.Reader.WaitToReadAsync(ct))
                {
                    while (queue.Reader.TryRead(out var text))
                    {
                        context.Response.BodyWriter.Write(text);
                    }
                    await context.Response.BodyWriter.FlushAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The subscriber went away.
            }
            finally
            {
                lock (connections)
                {
                    connections.Remove(queue);
                }
            }
        });
        await app.RunAsync();
        return 0;
    }
}
