using FlowLedger.Api.Demo;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Ledger;
using JasperFx;
using NodaTime;
using Scalar.AspNetCore;
using Wolverine;
using Wolverine.Http;

var builder = WebApplication.CreateBuilder(args);

builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
});
builder.Services.AddSingleton<IClock>(SystemClock.Instance);
builder.Services.AddLedgerStore();
builder.Services.AddHostedService<DemoScenarioLoader>();

builder.Host.UseWolverine(opts =>
{
    opts.Policies.AutoApplyTransactions();
    opts.Discovery.IncludeAssembly(typeof(Program).Assembly);
});
builder.Services.AddWolverineHttp();

builder.Services.ConfigureHttpJsonOptions(o => LedgerJson.ApplyConventions(o.SerializerOptions));
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
builder.Services.AddOpenApi();
builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgresql");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapOpenApi();
app.MapScalarApiReference("/docs/api");
app.MapHealthChecks("/health");
app.MapWolverineEndpoints(opts =>
{
    opts.WarmUpRoutes = RouteWarmup.Eager;
    opts.RejectUnparseableQueryValues = true;
});

return await app.RunJasperFxCommands(args);

/// <summary>Lets the test host find the app's entry point.</summary>
public partial class Program;
