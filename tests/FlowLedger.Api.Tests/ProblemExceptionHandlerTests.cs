using System.Text.Json.Nodes;
using FlowLedger.Api.Hosting;
using Marten.Exceptions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace FlowLedger.Api.Tests;

/// <summary>What a request that failed on the database answers: 503 to retry when the database is away, 500 otherwise.</summary>
public sealed class ProblemExceptionHandlerTests
{
    private static async Task<(int Status, string? RetryAfter, JsonNode Body)> AnswerToAsync(Exception exception)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services, Response = { Body = new MemoryStream() } };
        var handler = new ProblemExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), NullLogger<ProblemExceptionHandler>.Instance);

        Assert.True(await handler.TryHandleAsync(context, exception, TestContext.Current.CancellationToken));
        context.Response.Body.Position = 0;
        var body = JsonNode.Parse(context.Response.Body)!;
        return (context.Response.StatusCode, context.Response.Headers.RetryAfter.FirstOrDefault(), body);
    }

    [Fact]
    public async Task A_database_out_of_reach_or_out_of_connections_is_a_503_with_Retry_After()
    {
        var exhausted = new MartenCommandException(new NpgsqlCommand("select 1"),
            new NpgsqlException("The connection pool has been exhausted", new TimeoutException()));

        var (status, retryAfter, body) = await AnswerToAsync(exhausted);

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("1", retryAfter);
        Assert.Contains("nothing was written", body["detail"]!.GetValue<string>());
        Assert.DoesNotContain("select", body.ToJsonString());
    }

    [Fact]
    public async Task A_connection_the_server_ended_in_a_restart_is_a_503()
    {
        var ended = new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01");

        var (status, retryAfter, _) = await AnswerToAsync(new MartenCommandException(new NpgsqlCommand("select 1"), ended));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("1", retryAfter);
    }

    [Fact]
    public async Task Any_other_failure_is_a_500_that_shows_no_detail()
    {
        var (status, retryAfter, body) = await AnswerToAsync(new InvalidOperationException("select secret from somewhere"));

        Assert.Equal(StatusCodes.Status500InternalServerError, status);
        Assert.Null(retryAfter);
        Assert.DoesNotContain("secret", body.ToJsonString());
    }
}
