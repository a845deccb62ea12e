using System.Net.Http.Headers;
using Alba;
using FlowLedger.Api.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Wolverine;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>
/// The real app, through its HTTP API, on a database of its own: one per test class. Its clock is a
/// <see cref="FakeClock"/> so tests choose every recorded instant. It has one API key of each role,
/// named after the role ("test-reader", …), so every test goes through authentication.
/// </summary>
public class AppFixture(PostgresServer server) : IAsyncLifetime
{
    public PostgresServer Server => server;

    public static readonly Instant Start = Instant.FromUtc(2026, 1, 5, 10, 0);

    public FakeClock Clock { get; } = new(Start);
    public IAlbaHost Host { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    /// <summary>The plain key of each role; the app is configured with their hashes only.</summary>
    public IReadOnlyDictionary<Role, string> Keys { get; } =
        Enum.GetValues<Role>().ToDictionary(role => role, _ => ApiKeyRing.Generate().Key);

    public static string KeyName(Role role) => $"test-{AccessControl.RoleName(role)}";

    /// <summary>A raw client that sends the key of <paramref name="role"/> with every request.</summary>
    public HttpClient CreateClient(Role role)
    {
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Keys[role]);
        return client;
    }

    /// <summary>Whether the app loads the demo scenario on start; only the demo's own tests want it.</summary>
    protected virtual bool LoadDemo => false;

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = await DatabaseAsync();
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseSetting("ConnectionStrings:Marten", ConnectionString);
            builder.UseSetting("FlowLedger:LoadDemo", LoadDemo.ToString());
            foreach (var (role, index) in Keys.Keys.Select((role, index) => (role, index)))
            {
                builder.UseSetting($"{ApiKeyRing.Section}:{index}:Name", KeyName(role));
                builder.UseSetting($"{ApiKeyRing.Section}:{index}:Role", AccessControl.RoleName(role));
                builder.UseSetting($"{ApiKeyRing.Section}:{index}:Sha256", ApiKeyRing.HashOf(Keys[role]));
            }
            Configure(builder);
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<IClock>(Clock);
                services.RunWolverineInSoloMode();
            });
        });
    }

    /// <summary>The database the app runs on: a fresh one, unless a test looks at one another app wrote.</summary>
    protected virtual Task<string> DatabaseAsync() => server.CreateDatabaseAsync();

    /// <summary>Settings of a fixture that needs the app configured otherwise.</summary>
    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }
}

/// <summary>The app on a database another app wrote before it: to read what a killed or stopped app left behind.</summary>
public sealed class ExistingDatabaseAppFixture(PostgresServer server, string connectionString) : AppFixture(server)
{
    protected override Task<string> DatabaseAsync() => Task.FromResult(connectionString);
}
