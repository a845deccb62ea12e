using Alba;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;
using NodaTime.Testing;
using Wolverine;

namespace FlowLedger.Api.Tests.Fixtures;

/// <summary>
/// The real app, through its HTTP API, on a database of its own: one per test class. Its clock is a
/// <see cref="FakeClock"/> so tests choose every recorded instant.
/// </summary>
public class AppFixture(PostgresServer server) : IAsyncLifetime
{
    public PostgresServer Server => server;

    public static readonly Instant Start = Instant.FromUtc(2026, 1, 5, 10, 0);

    public FakeClock Clock { get; } = new(Start);
    public IAlbaHost Host { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    /// <summary>Whether the app loads the demo scenario on start; only the demo's own tests want it.</summary>
    protected virtual bool LoadDemo => false;

    /// <summary>Configuration a test class sets beyond the database and the demo switch.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = await server.CreateDatabaseAsync();
        var settings = new Dictionary<string, string>(Settings) { ["FlowLedger:LoadDemo"] = LoadDemo.ToString() };
        Host = await StartHostAsync(ConnectionString, Clock, settings);
    }

    /// <summary>The app on a given database; tests that restart it start it again on the same one.</summary>
    public static Task<IAlbaHost> StartHostAsync(string connectionString, IClock clock, IReadOnlyDictionary<string, string> settings) =>
        AlbaHost.For<Program>(builder =>
        {
            builder.UseSetting("ConnectionStrings:Marten", connectionString);
            builder.UseSetting("FlowLedger:LoadDemo", "False");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureServices(services =>
            {
                services.AddSingleton(clock);
                services.RunWolverineInSoloMode();
            });
        });

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }
    }
}
