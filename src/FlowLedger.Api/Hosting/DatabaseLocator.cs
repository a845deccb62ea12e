namespace FlowLedger.Api.Hosting;

/// <summary>
/// Where the ledger's PostgreSQL is: <c>ConnectionStrings:Marten</c> when configured, otherwise a
/// private cluster the app runs itself from the machine's PostgreSQL binaries (SPEC §11).
/// The embedded cluster starts on first use and stops when the app's container is disposed.
/// </summary>
public sealed class DatabaseLocator : IAsyncDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<DatabaseLocator> _logger;
    private readonly Lazy<string> _connectionString;
    private EmbeddedPostgres? _embedded;

    public DatabaseLocator(IConfiguration configuration, ILogger<DatabaseLocator> logger)
    {
        _configuration = configuration;
        _logger = logger;
        _connectionString = new Lazy<string>(Locate);
    }

    public string ConnectionString => _connectionString.Value;

    private string Locate()
    {
        var configured = _configuration.GetConnectionString("Marten");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            _logger.LogInformation("Using the PostgreSQL of ConnectionStrings:Marten");
            return configured;
        }
        var dataDirectory = _configuration["FlowLedger:DataDirectory"] ?? EmbeddedPostgres.DefaultDataDirectory();
        // Marten builds its options synchronously; the cluster has to be up before it can.
        _embedded = EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(dataDirectory), _logger).GetAwaiter().GetResult();
        return _embedded.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync();
        }
    }
}
