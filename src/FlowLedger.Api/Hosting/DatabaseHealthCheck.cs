using Marten;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlowLedger.Api.Hosting;

/// <summary>/health is healthy when the event store answers a query.</summary>
public sealed class DatabaseHealthCheck(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            var statistics = await store.Advanced.FetchEventStoreStatistics(token: ct);
            return HealthCheckResult.Healthy($"{statistics.EventCount} events in {statistics.StreamCount} streams.");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("The event store does not answer.", ex);
        }
    }
}
