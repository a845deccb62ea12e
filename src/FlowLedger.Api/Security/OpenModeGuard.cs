using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace FlowLedger.Api.Security;

/// <summary>
/// With no API key configured the ledger is open to whoever can reach it, so it must only be
/// reachable from this machine (SPEC §10). Checked before the start against the configured
/// addresses, and again once the server has bound the addresses it really listens on.
/// </summary>
public sealed class OpenModeGuard(ApiKeyRing keys, IServer server, ILogger<OpenModeGuard> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!keys.IsOpen)
        {
            return Task.CompletedTask;
        }
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
        EnsureSafe(keys, addresses);
        logger.LogWarning("OPEN MODE: no API key is configured, so every request is allowed without authentication, on loopback only ({Addresses}).",
            addresses.Count == 0 ? "in-process" : string.Join(", ", addresses));
        return Task.CompletedTask;
    }

    /// <summary>Throws when the ledger would be open on an address other machines can reach.</summary>
    public static void EnsureSafe(ApiKeyRing keys, IEnumerable<string> addresses)
    {
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (keys.IsOpen && exposed.Count > 0)
        {
            throw new OpenModeRefusedException(
                $"No API key is configured ({ApiKeyRing.Section}) and the server would listen on {string.Join(", ", exposed)}, beyond loopback. " +
                "Refusing to serve an open ledger: create a key with `keys add <name> --role admin` and configure its hash, " +
                "or bind to loopback only (--urls http://127.0.0.1:5000).");
        }
    }

    /// <summary>The addresses ASP.NET Core will bind from configuration; with none it binds http://localhost:5000.</summary>
    public static IReadOnlyList<string> ConfiguredAddresses(IConfiguration configuration)
    {
        var addresses = new List<string>();
        addresses.AddRange(Split(configuration["urls"]));
        addresses.AddRange(Split(configuration["http_ports"]).Select(port => $"http://*:{port}"));
        addresses.AddRange(Split(configuration["https_ports"]).Select(port => $"https://*:{port}"));
        addresses.AddRange(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        return addresses.Count > 0 ? addresses : ["http://localhost:5000"];
    }

    private static string[] Split(string? list) =>
        (list ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool IsLoopback(string address)
    {
        var host = BindingAddress.Parse(address).Host;
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The app would be an open ledger on a network address; it stops instead.</summary>
public sealed class OpenModeRefusedException(string message) : Exception(message);
