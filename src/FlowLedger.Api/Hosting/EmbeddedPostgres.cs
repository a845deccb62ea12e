using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FlowLedger.Api.Hosting;

/// <summary>
/// A private PostgreSQL cluster run from the machine's PostgreSQL binaries, so that the app and the
/// tests need no database set up beforehand. The cluster lives in <c>{DataDirectory}/pgdata</c>,
/// survives restarts and listens on a free loopback port only.
/// Several processes may use one data folder: the one holding <c>{DataDirectory}/owner.lock</c> owns the
/// server and stops it when it stops; the others are guests that leave it running.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string Host = "127.0.0.1";
    private const string SuperUser = "postgres";
    private const string OwnerLockFileName = "owner.lock";

    private static readonly TimeSpan OwnerStartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan OwnerPollInterval = TimeSpan.FromMilliseconds(500);

    private readonly string _password;
    private readonly Lazy<Task> _stop;

    /// <summary>Where clients connect: the server's Unix socket when it has one, else TCP on loopback.</summary>
    private readonly string _clientHost;

    private EmbeddedPostgres(string dataDirectory, int port, string? socketDirectory, string password, string database, Func<Task> stop)
    {
        _password = password;
        _stop = new Lazy<Task>(stop);
        _clientHost = socketDirectory ?? Host;
        Port = port;
        DataDirectory = dataDirectory;
        ConnectionString = ConnectionStringFor(database, pooling: true);
    }

    /// <summary>Npgsql connection string to the database named in the options.</summary>
    public string ConnectionString { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>
    /// Where the app keeps its cluster when not told otherwise: <c>$FLOWLEDGER_DATA</c>; else, for
    /// root, <c>/var/lib/flowledger</c>; else the user's data folder (<c>$XDG_DATA_HOME</c> or
    /// <c>~/.local/share</c>) + <c>/flowledger</c>.
    /// </summary>
    public static string DefaultDataDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("FLOWLEDGER_DATA");
        if (!string.IsNullOrEmpty(configured))
        {
            return Path.GetFullPath(configured);
        }

        // Root's home is usually mode 0700, so the postgres user that runs the cluster for root
        // could not reach a folder inside it.
        if (RunsAsRoot())
        {
            return "/var/lib/flowledger";
        }

        // On Unix this is $XDG_DATA_HOME, or ~/.local/share when that is not set; DoNotVerify
        // because a fresh account has neither folder yet (GetFolderPath would return "").
        var dataHome = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(dataHome, "flowledger");
    }

    public static Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, ILogger logger, CancellationToken ct = default)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException(
                "The embedded PostgreSQL runs on Linux and macOS. On Windows set ConnectionStrings__Marten to a " +
                "PostgreSQL database, or run `docker compose up` from the repository root.");
        }

        return StartOnUnixAsync(options, logger, ct);
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl -m fast -w stop</c>) and releases <c>owner.lock</c> if this instance owns
    /// the server; a guest leaves it running for its owner. Later calls return the same task.
    /// </summary>
    public Task StopAsync() => _stop.Value;

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>Creates the database unless it exists and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        // Unpooled, so that stopping the server leaves no broken maintenance connections behind.
        await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres", pooling: false));
        await connection.OpenAsync(ct);

        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        if (await exists.ExecuteScalarAsync(ct) is null)
        {
            await using var create = new NpgsqlCommand($"create database {QuoteIdentifier(name)}", connection);
            try
            {
                await create.ExecuteNonQueryAsync(ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                // Another caller created it between our check and our CREATE; it exists, as asked.
            }
        }

        return ConnectionStringFor(name, pooling: true);
    }

    [UnsupportedOSPlatform("windows")]
    private static async Task<EmbeddedPostgres> StartOnUnixAsync(EmbeddedPostgresOptions options, ILogger logger, CancellationToken ct)
    {
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        Cluster.CreateDataDirectory(dataDirectory);
        var account = await ClusterAccount.ForThisProcessAsync(ct);
        var (cluster, ownerLock) = await TakeOwnershipOrAwaitOwnerAsync(dataDirectory, options.BinDirectory, account, logger, ct);
        logger.LogInformation(
            "Embedded PostgreSQL: binaries in {BinDirectory}, data folder {DataDirectory}, cluster run by {ClusterUser}",
            cluster.BinDirectory, dataDirectory, account.Name);

        EmbeddedPostgres server;
        try
        {
            server = ownerLock is null
                ? UseAsGuest(cluster, options.Database, logger)
                : await StartAsOwnerAsync(cluster, ownerLock, options, logger, ct);
        }
        catch
        {
            ownerLock?.Dispose();
            throw;
        }

        try
        {
            await server.CreateDatabaseAsync(options.Database, ct);
        }
        catch
        {
            await server.StopAsync();
            throw;
        }

        logger.LogInformation(
            "Embedded PostgreSQL {Version} serves database {Database} on {Host}:{Port} (durable: {Durable}); server log {LogFile}; the app connects through {ClientHost}",
            Cluster.ReadVersion(dataDirectory), options.Database, Host, server.Port, options.Durable, cluster.LogFile, server._clientHost);
        return server;
    }

    /// <summary>
    /// Takes <c>owner.lock</c> and returns it; or, while another live process holds it, waits until that
    /// process's server accepts connections and returns no lock. The lock is tried again on every poll, so
    /// that an owner dying while it starts the server hands the cluster over instead of failing us.
    /// </summary>
    [UnsupportedOSPlatform("windows")]
    private static async Task<(Cluster Cluster, FileStream? OwnerLock)> TakeOwnershipOrAwaitOwnerAsync(
        string dataDirectory, string? binDirectory, ClusterAccount account, ILogger logger, CancellationToken ct)
    {
        var lockFile = Path.Combine(dataDirectory, OwnerLockFileName);
        var deadline = DateTime.UtcNow + OwnerStartTimeout;
        var waitLogged = false;
        while (true)
        {
            var ownerLock = TryTakeOwnerLock(lockFile);
            // The version is read after the lock is taken: the previous owner may have created the cluster meanwhile.
            var cluster = new Cluster(PostgresBinaries.Find(binDirectory, Cluster.ReadVersion(dataDirectory)), dataDirectory, account);
            if (ownerLock is not null || (await cluster.IsRunningAsync(ct) && cluster.ReportsReady()))
            {
                return (cluster, ownerLock);
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"Another process holds {lockFile}, so it owns the PostgreSQL cluster in {cluster.ClusterDirectory}, " +
                    $"but its server did not accept connections within {OwnerStartTimeout.TotalSeconds} s. See {cluster.LogFile}; " +
                    $"`fuser -v {lockFile}` names that process.");
            }

            if (!waitLogged)
            {
                logger.LogInformation(
                    "Embedded PostgreSQL: another live process owns the cluster (it holds {LockFile}) and is still starting the server; waiting up to {Seconds} s for it",
                    lockFile, OwnerStartTimeout.TotalSeconds);
                waitLogged = true;
            }

            await Task.Delay(OwnerPollInterval, ct);
        }
    }

    /// <summary>
    /// Takes the owner lock, or returns null while another process holds it. For FileShare.None, .NET on Unix
    /// takes flock(LOCK_EX | LOCK_NB) on the file: an advisory lock that the kernel drops when its holder exits,
    /// even by kill -9, and that pg_ctl and the server do not inherit (.NET opens files close-on-exec). So a
    /// lock we cannot take means a live process owns the cluster. DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1 turns
    /// that lock off, and with it this protection: every process then owns the cluster.
    /// </summary>
    private static FileStream? TryTakeOwnerLock(string lockFile)
    {
        try
        {
            return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            // The sharing violation that the lock held elsewhere raises; the folder was just created or found,
            // so other I/O errors are unlikely here.
            return null;
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static async Task<EmbeddedPostgres> StartAsOwnerAsync(
        Cluster cluster, FileStream ownerLock, EmbeddedPostgresOptions options, ILogger logger, CancellationToken ct)
    {
        var clusterExists = Cluster.ReadVersion(cluster.DataDirectory) is not null;
        await cluster.PrepareDataDirectoryAsync(clusterExists, ct);
        var password = clusterExists ? ReadPassword(cluster) : ReadOrCreatePassword(cluster.PasswordFile);
        if (!clusterExists)
        {
            logger.LogInformation("Creating a PostgreSQL cluster in {ClusterDirectory}", cluster.ClusterDirectory);
            await cluster.InitializeAsync(password, options.Durable, logger, ct);
        }

        int port;
        if (await cluster.IsRunningAsync(ct))
        {
            port = cluster.ReadRunningPort();
            logger.LogInformation(
                "Embedded PostgreSQL: this process owns the cluster (it holds {LockFile}); the server was left running by an " +
                "earlier owner that exited without stopping it, so this process adopts it on port {Port} and stops it on shutdown",
                ownerLock.Name, port);
        }
        else
        {
            port = FreeLoopbackPort();
            logger.LogInformation(
                "Embedded PostgreSQL: this process owns the cluster (it holds {LockFile}); starting the server on port {Port}, to stop it on shutdown",
                ownerLock.Name, port);
            await cluster.StartAsync(port, options.Durable, ct);
        }

        return new EmbeddedPostgres(cluster.DataDirectory, port, cluster.ReadRunningSocketDirectory(), password, options.Database, async () =>
        {
            // Stopped before the lock goes, so that the next process to take it cannot adopt a server on its way down.
            try
            {
                await cluster.StopAsync();
            }
            finally
            {
                ownerLock.Dispose();
            }

            logger.LogInformation("Embedded PostgreSQL: stopped the server on port {Port} and released the owner lock", port);
        });
    }

    private static EmbeddedPostgres UseAsGuest(Cluster cluster, string database, ILogger logger)
    {
        var port = cluster.ReadRunningPort();
        var lockFile = Path.Combine(cluster.DataDirectory, OwnerLockFileName);
        logger.LogInformation(
            "Embedded PostgreSQL: another live process owns the cluster (it holds {LockFile}); using its server on port {Port} " +
            "as a guest, and leaving it running on shutdown",
            lockFile, port);
        return new EmbeddedPostgres(cluster.DataDirectory, port, cluster.ReadRunningSocketDirectory(), ReadPassword(cluster), database, () =>
        {
            logger.LogInformation(
                "Embedded PostgreSQL: leaving the server on port {Port} running; the process holding {LockFile} owns it and stops it",
                port, lockFile);
            return Task.CompletedTask;
        });
    }

    private string ConnectionStringFor(string database, bool pooling) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = _clientHost,
            Port = Port,
            Database = database,
            Username = SuperUser,
            Password = _password,
            Pooling = pooling,
        }.ConnectionString;

    [UnsupportedOSPlatform("windows")]
    private static string ReadOrCreatePassword(string passwordFile)
    {
        if (File.Exists(passwordFile))
        {
            return File.ReadAllText(passwordFile).Trim();
        }

        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        WritePrivateFile(passwordFile, password);
        return password;
    }

    private static string ReadPassword(Cluster cluster) =>
        File.Exists(cluster.PasswordFile)
            ? File.ReadAllText(cluster.PasswordFile).Trim()
            : throw new InvalidOperationException(
                $"The PostgreSQL cluster in {cluster.ClusterDirectory} was created with the superuser password kept in " +
                $"{cluster.PasswordFile}, which is missing. Restore that file, or delete {cluster.DataDirectory} to start " +
                "over with an empty store.");

    [UnsupportedOSPlatform("windows")]
    private static void WritePrivateFile(string path, string content)
    {
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static bool RunsAsRoot() => !OperatingSystem.IsWindows() && Environment.IsPrivilegedProcess;

    /// <summary>The cluster folder and the PostgreSQL programs that act on it.</summary>
    private sealed class Cluster(string binDirectory, string dataDirectory, ClusterAccount account)
    {
        public string BinDirectory { get; } = binDirectory;

        public string DataDirectory { get; } = dataDirectory;

        public string ClusterDirectory { get; } = ClusterDirectoryOf(dataDirectory);

        public string PasswordFile { get; } = Path.Combine(dataDirectory, "password");

        public string LogFile { get; } = Path.Combine(dataDirectory, "postgres.log");

        private string PidFile => Path.Combine(ClusterDirectory, "postmaster.pid");

        /// <summary>The major version of the cluster in the data folder, or null when there is none yet.</summary>
        public static string? ReadVersion(string dataDirectory)
        {
            var versionFile = Path.Combine(ClusterDirectoryOf(dataDirectory), "PG_VERSION");
            return File.Exists(versionFile) ? File.ReadAllText(versionFile).Trim() : null;
        }

        /// <summary>Creates the data folder if missing, so that the owner lock can be taken in it.</summary>
        [UnsupportedOSPlatform("windows")]
        public static void CreateDataDirectory(string dataDirectory)
        {
            const UnixFileMode everyoneMayEnter = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            Directory.CreateDirectory(dataDirectory, everyoneMayEnter);
        }

        [UnsupportedOSPlatform("windows")]
        public async Task PrepareDataDirectoryAsync(bool clusterExists, CancellationToken ct)
        {
            if (account.IsOtherUser)
            {
                // The cluster user reaches pgdata, the server log and initdb's password file through
                // this folder; a caller's folder may well be 0700 (a fresh temp folder is).
                File.SetUnixFileMode(DataDirectory, File.GetUnixFileMode(DataDirectory) | UnixFileMode.OtherExecute);
                if ((await RunAsync("test", ["-x", DataDirectory], ct)).ExitCode != 0)
                {
                    throw new InvalidOperationException(
                        $"PostgreSQL refuses to run as root, so the cluster runs as the '{account.Name}' user, who cannot " +
                        $"reach {DataDirectory}: a folder above it does not let other users through (root's home, for " +
                        "one, is usually 0700). Choose a data folder elsewhere, e.g. FLOWLEDGER_DATA=/var/lib/flowledger.");
                }
            }

            if (account.IsOtherUser && !File.Exists(LogFile))
            {
                // pg_ctl, as the cluster user, may not create files in the data folder, which root owns.
                await File.WriteAllTextAsync(LogFile, string.Empty, ct);
                await HandToClusterUserAsync(LogFile, ct);
            }

            if (clusterExists)
            {
                return;
            }

            if (Directory.Exists(ClusterDirectory) && Directory.EnumerateFileSystemEntries(ClusterDirectory).Any())
            {
                throw new InvalidOperationException(
                    $"{ClusterDirectory} holds files but no PostgreSQL cluster (PG_VERSION is missing), probably from an " +
                    "interrupted first start. Delete that folder so that a new cluster can be created there.");
            }

            Directory.CreateDirectory(ClusterDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await HandToClusterUserAsync(ClusterDirectory, ct);
        }

        [UnsupportedOSPlatform("windows")]
        public async Task InitializeAsync(string password, bool durable, ILogger logger, CancellationToken ct)
        {
            // initdb runs as the cluster user, who may not read the password file kept for the app.
            var initdbPasswordFile = Path.Combine(DataDirectory, $"initdb-password-{Guid.NewGuid():N}");
            WritePrivateFile(initdbPasswordFile, password);
            try
            {
                await HandToClusterUserAsync(initdbPasswordFile, ct);
                var result = await InitdbAsync("C.UTF-8", initdbPasswordFile, durable, ct);
                if (result.ExitCode != 0)
                {
                    logger.LogInformation("initdb with locale C.UTF-8 failed; trying locale C. initdb said: {Output}", result.Output);
                    result = await InitdbAsync("C", initdbPasswordFile, durable, ct);
                }

                EnsureSucceeded(result);
            }
            finally
            {
                File.Delete(initdbPasswordFile);
            }
        }

        public async Task<bool> IsRunningAsync(CancellationToken ct) =>
            (await RunPostgresProgramAsync("pg_ctl", ["status", "-D", ClusterDirectory], ct)).ExitCode == 0;

        public int ReadRunningPort() =>
            int.TryParse(ReadPidFileLine(4), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                ? port
                : throw new InvalidOperationException($"Cannot read the port of the running server from {PidFile}.");

        /// <summary>The folder of the running server's Unix socket, or null when it listens on TCP only (a server started by an earlier version).</summary>
        public string? ReadRunningSocketDirectory() => ReadPidFileLine(5)?.Trim() is { Length: > 0 } directory ? directory : null;

        /// <summary>Whether the server says it accepts connections, which is what <c>pg_ctl -w start</c> waits for.</summary>
        public bool ReportsReady()
        {
            try
            {
                return ReadPidFileLine(8)?.Trim() == "ready";
            }
            catch (IOException)
            {
                // postmaster.pid went away: the server stopped since it was seen running.
                return false;
            }
        }

        public async Task StartAsync(int port, bool durable, CancellationToken ct)
        {
            // pg_ctl hands these to the server through /bin/sh, so the socket folder is quoted for it. The socket lives in
            // the cluster's own folder, never colliding with another server's in /tmp or /var/run/postgresql, and only
            // the cluster's user (and root) may enter that folder. The app connects through it: a Unix socket skips the
            // TCP stack, whose loopback sends and receives took about a fifth of the app's busy time under load.
            // TCP on loopback stays open for psql and other tools.
            List<string> settings =
            [
                $"-p {port.ToString(CultureInfo.InvariantCulture)}",
                "-c listen_addresses=127.0.0.1",
                $"-c unix_socket_directories='{SocketDirectoryFor(port)}'",
                "-c unix_socket_permissions=0700",
                "-c max_connections=200",
            ];
            if (!durable)
            {
                settings.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
            }

            EnsureSucceeded(await RunPostgresProgramAsync(
                "pg_ctl",
                ["-D", ClusterDirectory, "-w", "-t", "60", "-l", LogFile, "start", "-o", string.Join(' ', settings)],
                ct));
        }

        public async Task StopAsync()
        {
            var result = await RunPostgresProgramAsync("pg_ctl", ["-D", ClusterDirectory, "-m", "fast", "-w", "stop"], CancellationToken.None);
            if (result.ExitCode != 0 && await IsRunningAsync(CancellationToken.None))
            {
                EnsureSucceeded(result);
            }
        }

        private static string ClusterDirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "pgdata");

        /// <summary>
        /// The cluster folder, or empty (no socket, TCP only) when the server could not use it: a socket's path must fit
        /// in 107 bytes, and the folder's name must pass through the shell's quotes and the setting's list syntax.
        /// </summary>
        private string SocketDirectoryFor(int port)
        {
            const int socketPathLimit = 107;
            var socketPath = Path.Combine(ClusterDirectory, $".s.PGSQL.{port.ToString(CultureInfo.InvariantCulture)}");
            return Encoding.UTF8.GetByteCount(socketPath) <= socketPathLimit && ClusterDirectory.IndexOfAny(['\'', ',', ' ', '"', '\\']) < 0
                ? ClusterDirectory
                : "";
        }

        // postmaster.pid: pid, data directory, start time, port, socket directory, listen address, shared memory key, status.
        private string? ReadPidFileLine(int number) => File.ReadLines(PidFile).Skip(number - 1).FirstOrDefault();

        private Task<CommandResult> InitdbAsync(string locale, string passwordFile, bool durable, CancellationToken ct)
        {
            List<string> arguments =
            [
                "-D", ClusterDirectory, "-U", SuperUser, "-E", "UTF8", $"--locale={locale}",
                "--auth=scram-sha-256", $"--pwfile={passwordFile}",
            ];
            if (!durable)
            {
                arguments.Add("--no-sync");
            }

            return RunPostgresProgramAsync("initdb", arguments, ct);
        }

        private async Task HandToClusterUserAsync(string path, CancellationToken ct)
        {
            if (account.IsOtherUser)
            {
                EnsureSucceeded(await Command.RunAsync("chown", [account.Name, path], DataDirectory, ct));
            }
        }

        private Task<CommandResult> RunPostgresProgramAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct) =>
            RunAsync(Path.Combine(BinDirectory, program), arguments, ct);

        private Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken ct)
        {
            var (fileName, fullArguments) = account.CommandFor(program, arguments);
            return Command.RunAsync(fileName, fullArguments, DataDirectory, ct);
        }

        private void EnsureSucceeded(CommandResult result)
        {
            if (result.ExitCode == 0)
            {
                return;
            }

            var message = $"`{result.CommandLine}` exited with code {result.ExitCode}.\n{result.Output}";
            if (File.Exists(LogFile))
            {
                var tail = string.Join('\n', File.ReadLines(LogFile).TakeLast(30));
                message += $"\n--- last lines of {LogFile} ---\n{tail}";
            }

            throw new InvalidOperationException(message);
        }
    }

    /// <summary>
    /// The account the cluster runs as: the current user, or, for root (whom initdb and postgres
    /// refuse), the unprivileged <c>postgres</c> system user that PostgreSQL packages create.
    /// </summary>
    private sealed class ClusterAccount
    {
        private const string SystemUser = "postgres";
        private static readonly string[] AdminDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

        private readonly string? _runuser;

        private ClusterAccount(string name, bool isOtherUser, string? runuser)
        {
            Name = name;
            IsOtherUser = isOtherUser;
            _runuser = runuser;
        }

        public string Name { get; }

        public bool IsOtherUser { get; }

        public static async Task<ClusterAccount> ForThisProcessAsync(CancellationToken ct)
        {
            if (!RunsAsRoot())
            {
                return new ClusterAccount(Environment.UserName, isOtherUser: false, runuser: null);
            }

            if ((await Command.RunAsync("id", ["-u", SystemUser], Path.GetTempPath(), ct)).ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"Running as root: PostgreSQL refuses root, and there is no '{SystemUser}' system user to run the " +
                    $"embedded cluster as. Installing PostgreSQL creates it (Debian/Ubuntu: `apt-get install postgresql`); " +
                    $"or create it (`useradd --system --home-dir /var/lib/postgresql {SystemUser}`), or run the app as a " +
                    "normal user, or set ConnectionStrings__Marten to an existing database.");
            }

            var runuser = AdminDirectories.Select(directory => Path.Combine(directory, "runuser")).FirstOrDefault(File.Exists);
            return new ClusterAccount(SystemUser, isOtherUser: true, runuser);
        }

        public (string FileName, IReadOnlyList<string> Arguments) CommandFor(string program, IReadOnlyList<string> arguments)
        {
            if (!IsOtherUser)
            {
                return (program, arguments);
            }

            if (_runuser is not null)
            {
                return (_runuser, ["-u", Name, "--", program, .. arguments]);
            }

            // su takes one shell command line, so each argument is quoted for /bin/sh.
            var commandLine = string.Join(' ', new[] { program }.Concat(arguments).Select(QuoteForShell));
            return ("su", [Name, "-s", "/bin/sh", "-c", commandLine]);
        }

        private static string QuoteForShell(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    private static class PostgresBinaries
    {
        private static readonly string[] Required = ["initdb", "pg_ctl", "postgres"];
        private static readonly string[] UsualDirectories = ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"];

        /// <summary>
        /// The folder holding initdb, pg_ctl and postgres: the configured one, else Debian's
        /// /usr/lib/postgresql/N/bin (the existing cluster's version first, then the highest), else PATH.
        /// </summary>
        public static string Find(string? configuredDirectory, string? clusterVersion)
        {
            var configured = configuredDirectory ?? Environment.GetEnvironmentVariable("FLOWLEDGER_PG_BIN");
            if (!string.IsNullOrEmpty(configured))
            {
                return HasServerPrograms(configured) ? Path.GetFullPath(configured) : throw new PostgresBinariesNotFoundException([configured]);
            }

            var candidates = DebianDirectories(clusterVersion)
                .Concat((Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                .Concat(UsualDirectories)
                .Distinct()
                .ToList();
            return candidates.FirstOrDefault(HasServerPrograms) ?? throw new PostgresBinariesNotFoundException(candidates);
        }

        private static IEnumerable<string> DebianDirectories(string? clusterVersion)
        {
            const string root = "/usr/lib/postgresql";
            if (!Directory.Exists(root))
            {
                return [];
            }

            return Directory.GetDirectories(root)
                .Select(directory => (Version: Path.GetFileName(directory), Bin: Path.Combine(directory, "bin")))
                .Where(candidate => decimal.TryParse(candidate.Version, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _))
                .OrderByDescending(candidate => candidate.Version == clusterVersion)
                .ThenByDescending(candidate => decimal.Parse(candidate.Version, CultureInfo.InvariantCulture))
                .Select(candidate => candidate.Bin);
        }

        private static bool HasServerPrograms(string directory) =>
            Required.All(program => File.Exists(Path.Combine(directory, program)));
    }

    private sealed record CommandResult(string CommandLine, int ExitCode, string Output);

    private static class Command
    {
        public static async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, string workingDirectory, CancellationToken ct)
        {
            var startInfo = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                // The cluster user must be able to enter it; the caller's folder may be root's home.
                WorkingDirectory = workingDirectory,
            };
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }

            var commandLine = string.Join(' ', new[] { fileName }.Concat(arguments).Select(part => part.Contains(' ') ? $"\"{part}\"" : part));
            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start `{commandLine}`.");
            var standardOutput = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var standardError = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(ct);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            var output = (await standardOutput + await standardError).Trim();
            return new CommandResult(commandLine, process.ExitCode, output);
        }
    }
}

/// <param name="DataDirectory">Folder the embedded server owns: the cluster, its password and its log.</param>
/// <param name="Database">Database created on start if missing; <see cref="EmbeddedPostgres.ConnectionString"/> points at it.</param>
/// <param name="Durable">False trades crash safety for speed (no fsync): for tests and throwaway data only.</param>
/// <param name="BinDirectory">Folder holding initdb, pg_ctl and postgres; found on the machine when null.</param>
public sealed record EmbeddedPostgresOptions(string DataDirectory, string Database = "flowledger", bool Durable = true, string? BinDirectory = null);

public sealed class PostgresBinariesNotFoundException(IEnumerable<string> searchedDirectories) : Exception(
    "PostgreSQL server programs (initdb, pg_ctl, postgres) were not found; looked in: " +
    string.Join(", ", searchedDirectories) + ".\n" +
    "FlowLedger runs a private PostgreSQL from them when no database is configured. Either:\n" +
    "  * install PostgreSQL (the server, not only the client):\n" +
    "      Debian/Ubuntu: sudo apt-get install postgresql\n" +
    "      Fedora/RHEL:   sudo dnf install postgresql-server\n" +
    "      Arch:          sudo pacman -S postgresql\n" +
    "      Alpine:        apk add postgresql\n" +
    "      macOS:         brew install postgresql@15\n" +
    "    or point FLOWLEDGER_PG_BIN at the folder that holds them;\n" +
    "  * or use an existing PostgreSQL: set ConnectionStrings__Marten, e.g.\n" +
    "      ConnectionStrings__Marten='Host=localhost;Port=5432;Database=flowledger;Username=postgres;Password=...'\n" +
    "  * or, with Docker, run `docker compose up` from the repository root.");
