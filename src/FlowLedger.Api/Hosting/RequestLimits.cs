using System.Globalization;
using System.Threading.RateLimiting;
using FlowLedger.Api.Ledger;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace FlowLedger.Api.Hosting;

/// <summary><c>FlowLedger:Limits</c>: generous by default, so only abuse meets them.</summary>
public sealed class LimitOptions
{
    public const string Section = "FlowLedger:Limits";

    /// <summary>Requests each key (or, in open mode, each client address) may make per second, sustained.</summary>
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>Requests a key may make at once before the sustained rate applies.</summary>
    public int Burst { get; set; } = 2000;

    public long BodyBytes { get; set; } = 1024 * 1024;

    /// <summary>An import is one transaction of many lines: 50,000 NDJSON lines are about 10 MB.</summary>
    public long ImportBodyBytes { get; set; } = 256L * 1024 * 1024;

    public int TimeoutSeconds { get; set; } = 30;
}

/// <summary>
/// Per-key rate limits (429 with Retry-After), bounded bodies (413) and request timeouts (504),
/// each answered with problem details.
/// </summary>
public static class RequestLimits
{
    /// <summary>Requests that stream or import for as long as they need; their size is bounded instead.</summary>
    public static readonly IReadOnlyList<string> LongRunningPrefixes = ["/api/import", "/api/replay", "/api/subscriptions"];

    public static IServiceCollection AddRequestLimits(this IServiceCollection services)
    {
        services.AddOptions<LimitOptions>().BindConfiguration(LimitOptions.Section);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value;
                // After AccessControl, the user is the key; in open mode every client address is its own partition.
                var partition = context.User.Identity?.Name is { } key ? $"key:{key}" : $"address:{context.Connection.RemoteIpAddress}";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst,
                    TokensPerPeriod = limits.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            o.OnRejected = async (rejection, ct) =>
            {
                var retryAfter = rejection.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                rejection.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Problems.WriteAsync(rejection.HttpContext, StatusCodes.Status429TooManyRequests,
                    $"Too many requests for this key; retry after {seconds} s.");
            };
        });
        services.AddRequestTimeouts();
        services.AddOptions<RequestTimeoutOptions>().Configure<IOptions<LimitOptions>>((o, limits) =>
            o.DefaultPolicy = new RequestTimeoutPolicy { Timeout = TimeSpan.FromSeconds(limits.Value.TimeoutSeconds) });
        return services;
    }

    /// <summary>After access control, so the rate limit knows the key.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app)
    {
        app.UseRateLimiter();
        app.Use(BoundBodyAsync);
        app.UseRequestTimeouts();
        app.Use((context, next) =>
        {
            if (LongRunningPrefixes.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
            {
                context.Features.Get<IHttpRequestTimeoutFeature>()?.DisableTimeout();
            }
            return next(context);
        });
        return app;
    }

    public static long BodyLimitOf(PathString path, LimitOptions limits) =>
        path.StartsWithSegments("/api/import", StringComparison.OrdinalIgnoreCase) ? limits.ImportBodyBytes : limits.BodyBytes;

    private static async Task BoundBodyAsync(HttpContext context, RequestDelegate next)
    {
        var limit = BodyLimitOf(context.Request.Path, context.RequestServices.GetRequiredService<IOptions<LimitOptions>>().Value);
        if (context.Request.ContentLength > limit)
        {
            await Problems.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The body has {context.Request.ContentLength} bytes; this endpoint takes at most {limit}.");
            return;
        }
        // A body without Content-Length (chunked) is cut by the server once it reads past the limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit;
        }
        await next(context);
    }
}
