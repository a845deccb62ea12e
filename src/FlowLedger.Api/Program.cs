using FlowLedger.Api.Demo;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Ledger;
using FlowLedger.Api.Live;
using FlowLedger.Api.Reading;
using FlowLedger.Api.Security;
using JasperFx;
using NodaTime;
using Scalar.AspNetCore;
using Spectre.Console;
using Wolverine;
using Wolverine.ErrorHandling;
using Wolverine.Http;

// Settings ship beside the binary, so the app behaves the same from whichever folder it is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.Services.AddSingleton<IClock>(SystemClock.Instance);
builder.Services.AddLedgerStore();
builder.Services.AddHostedService<DemoScenarioLoader>();
// Read when first needed, so a test host's settings are in; a bad entry stops the start.
builder.Services.AddSingleton(sp => ApiKeyRing.FromConfiguration(sp.GetRequiredService<IConfiguration>()));
builder.Services.AddHostedService<OpenModeGuard>();
builder.Services.AddRequestLimits();
builder.Services.AddHostedService<AnalysisWarmUp>();

builder.Host.UseWolverine(opts =>
{
    opts.Policies.AutoApplyTransactions();
    // Pinned: under a test host Wolverine would otherwise take the test assembly for the application's.
    opts.ApplicationAssembly = typeof(Program).Assembly;
    // The live feed's subscription runs once the leader node assigns it, on a health check: on the defaults
    // (3 s, then every 10 s) a fresh start pushed nothing for about 14 s.
    opts.Durability.FirstHealthCheckExecution = TimeSpan.FromMilliseconds(500);
    opts.Durability.HealthCheckPollingTime = TimeSpan.FromSeconds(2);
    // Webhook deliveries wait in PostgreSQL, so a restart neither loses nor repeats more than the one in flight.
    opts.LocalQueueFor<DeliverWebhook>().UseDurableInbox().MaximumParallelMessages(4);
    opts.Policies.OnException<WebhookRefusedException>().Or<HttpRequestException>().Or<TaskCanceledException>()
        .ScheduleRetry(WebhookRetryDelays).Then.MoveToErrorQueue();
});
// After Wolverine's own start, so the wait sees the node join the cluster.
builder.Services.AddHostedService<LiveFeedReadiness>();
builder.Services.AddHttpClient(DeliverWebhookHandler.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
builder.Services.AddWolverineHttp();

builder.Services.ConfigureHttpJsonOptions(o => LedgerJson.ApplyConventions(o.SerializerOptions));
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.AddOpenApi();
builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgresql");

// Disposed on every exit, so a command that started the embedded PostgreSQL also stops it.
await using var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
// The dashboard (wwwroot/index.html at "/"): public static files; it reads the same API as any client, with a key.
app.UseDefaultFiles();
app.UseStaticFiles();
// Routing first, so access control knows whether a path is an endpoint or a file.
app.UseRouting();
app.UseMiddleware<AccessControl>();
app.UseRequestLimits();
app.MapOpenApi();
app.MapScalarApiReference("/docs/api");
app.MapHealthChecks("/health");

try
{
    // Before anything starts: JasperFx turns a failed start into exit code 0, a refusal must not be.
    OpenModeGuard.EnsureSafe(app.Services.GetRequiredService<ApiKeyRing>(), OpenModeGuard.ConfiguredAddresses(app.Configuration));
    // Mapping the endpoints builds the event store, which finds (or starts) PostgreSQL.
    app.MapWolverineEndpoints(opts =>
    {
        opts.WarmUpRoutes = RouteWarmup.Eager;
        opts.RejectUnparseableQueryValues = true;
    });
    // JasperFx announces on stdout, through Spectre's console, each assembly it searches for commands: send
    // that to stderr, so stdout carries only a command's own output and `trace --json | jq` works.
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    return await app.RunJasperFxCommands(args);
}
catch (Exception ex) when (ex.FindInner<PostgresBinariesNotFoundException>() is { } missing)
{
    // Not a crash: the machine lacks PostgreSQL, and the message says what to do about it.
    Console.Error.WriteLine(missing.Message);
    return 2;
}
catch (Exception ex) when (((Exception?)ex.FindInner<OpenModeRefusedException>() ?? ex.FindInner<InvalidApiKeyConfigurationException>()) is { } refusal)
{
    // Not a crash either: serving would be unsafe, and the message says how to configure keys.
    Console.Error.WriteLine(refusal.Message);
    return 3;
}

/// <summary>Lets the test host find the app's entry point.</summary>
public partial class Program
{
    /// <summary>Back-off between attempts to deliver to a webhook that failed: about a day in all, then the error queue.</summary>
    private static readonly TimeSpan[] WebhookRetryDelays =
        [.. new[] { 1, 2, 5, 15, 60, 300, 900, 3600, 3600 * 6, 3600 * 12 }.Select(seconds => TimeSpan.FromSeconds(seconds))];
}
