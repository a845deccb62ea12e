using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>The built app as its own process on a free loopback port, stopped with SIGTERM like Ctrl+C.</summary>
public sealed class RunningApp : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private RunningApp(Process process, HttpClient http)
    {
        _process = process;
        Http = http;
    }

    public HttpClient Http { get; }

    public string Output
    {
        get { lock (_output) { return _output.ToString(); } }
    }

    /// <summary>The app with its own embedded PostgreSQL in <paramref name="dataDirectory"/>.</summary>
    public static Task<RunningApp> StartAsync(string dataDirectory) =>
        StartAsync(new Dictionary<string, string> { ["FLOWLEDGER_DATA"] = dataDirectory, ["ConnectionStrings__Marten"] = "" });

    public static async Task<RunningApp> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = Process.Start(start)!;
        var app = new RunningApp(process, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
        process.OutputDataReceived += (_, e) => app.Append(e.Data);
        process.ErrorDataReceived += (_, e) => app.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await app.WaitUntilHealthyAsync();
        return app;
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                if ((await Http.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(250);
        }
        throw new InvalidOperationException($"The app did not become healthy:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Http.Dispose();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
