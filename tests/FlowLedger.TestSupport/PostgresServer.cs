using DotNet.Testcontainers.Configurations;
using FlowLedger.Api.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Testcontainers.PostgreSql;
using Xunit;

namespace FlowLedger.Testing;

/// <summary>
/// One PostgreSQL server for the whole test run (SPEC §11): <c>FLOWLEDGER_TEST_CONNECTION</c> when set,
/// else a Testcontainers container when a Docker engine answers, else a private throwaway cluster
/// from the machine's binaries. Every test class gets a database of its own on it. A test assembly
/// makes it its assembly fixture with <c>[assembly: AssemblyFixture(typeof(PostgresServer))]</c>.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string ConnectionVariable = "FLOWLEDGER_TEST_CONNECTION";

    private PostgreSqlContainer? _container;
    private EmbeddedPostgres? _embedded;
    private string? _dataDirectory;
    private string _adminConnectionString = "";

    public async ValueTask InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } configured)
        {
            _adminConnectionString = configured;
        }
        else if (DockerAnswers())
        {
            _container = new PostgreSqlBuilder("postgres:15").Build();
            await _container.StartAsync();
            _adminConnectionString = _container.GetConnectionString();
        }
        else
        {
            // Its own folder per run: two test assemblies run side by side and must not share a cluster.
            _dataDirectory = Directory.CreateTempSubdirectory("flowledger-tests-").FullName;
            _embedded = await EmbeddedPostgres.StartAsync(
                new EmbeddedPostgresOptions(_dataDirectory, Database: "postgres", Durable: false), NullLogger.Instance);
            _adminConnectionString = _embedded.ConnectionString;
        }
    }

    /// <summary>A fresh, empty database for one test class.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "flowledger_test_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"create database {name}", connection);
        await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Cheap checks first: no socket and no DOCKER_HOST means no engine, without waiting for a timeout.</summary>
    private static bool DockerAnswers()
    {
        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is not { Length: > 0 } && !File.Exists("/var/run/docker.sock"))
        {
            return false;
        }
        return TestcontainersSettings.OS.DockerEndpointAuthConfig is not null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
        if (_embedded is not null)
        {
            await _embedded.DisposeAsync();
        }
        if (_dataDirectory is not null)
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
