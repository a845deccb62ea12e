using FlowLedger.Api.Audit;
using FlowLedger.Api.Hosting;
using FlowLedger.Api.Live;
using FlowLedger.Domain;
using FlowLedger.Projections;
using FlowLedger.Projections.Balances;
using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using Marten;
using Weasel.Core;
using Wolverine.Marten;

namespace FlowLedger.Api.Ledger;

/// <summary>The event store: one Marten stream per deal, one per company, events stored as the API shows them.</summary>
public static class LedgerStore
{
    public const string Schema = "flowledger";

    public static IServiceCollection AddLedgerStore(this IServiceCollection services)
    {
        services.AddSingleton<DatabaseLocator>();
        services.AddMarten(sp =>
            {
                var options = new StoreOptions();
                // No `Max Auto Prepare` on this shared pool; the write path's own pool prepares (LedgerWriterConnections).
                // With Npgsql 9.0.4 a command that Marten retried on a new connection after a restart of PostgreSQL named
                // the old connection's prepared statement and failed with 26000 (npgsql#6432, fixed in 10.0.2, the version
                // pinned now), which left the live feed's subscription paused for good. Preparing on this pool as well
                // has not been measured since.
                options.Connection(sp.GetRequiredService<DatabaseLocator>().ConnectionString);
                options.DatabaseSchemaName = Schema;
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase, LedgerJson.ApplyConventions);

                options.Events.StreamIdentity = StreamIdentity.AsString;
                options.Events.MetadataConfig.UserNameEnabled = true;
                // Wakes the node running the live-feed subscription after commits instead of at its next poll; the
                // recorder notifies after its commits (see EventAppendNotifier for why not Marten's own switch).
                options.Projections.Wakeup = sp.GetRequiredService<EventAppendNotifier>().Wakeup;
                foreach (var (name, type) in EventCatalog.Types)
                {
                    options.Events.MapEventType(type, name);
                }

                options.Projections.Add<CompanyProfileProjection>(ProjectionLifecycle.Inline);
                var postings = PostingsTable.Define(Schema);
                options.Storage.ExtendedSchemaObjects.Add(postings);
                options.Projections.Add(new PostingsProjection(Schema, sp.GetRequiredService<KnownStreams>()), ProjectionLifecycle.Inline,
                    projectionName: "Postings", asyncConfiguration: o => o.DeleteDataInTableOnTeardown(postings.Identifier.QualifiedName));
                options.Schema.For<IdempotencyRecord>();
                options.Schema.For<Webhook>();
                options.Storage.ExtendedSchemaObjects.Add(AuditChain.DefineTable(Schema));
                return options;
            })
            .UseLightweightSessions()
            // Reads query the event tables directly, so they must exist before the first event does.
            .ApplyAllDatabaseChangesOnStartup()
            // Wolverine assigns the async work (the live-feed subscription) to one node of however many share the database.
            .IntegrateWithWolverine(wolverine => wolverine.UseWolverineManagedEventSubscriptionDistribution = true)
            .SubscribeToEvents(new LiveFeedSubscription());
        TransientFailures.AddClassifier(LiveFeedSubscription.CancellationIsTransient);
        // After Marten's own start-up work, which adds the column this fills.
        services.AddHostedService<PostingSequenceBackfill>();
        services.AddSingleton<LedgerWriterConnections>();
        services.AddSingleton<EventAppendNotifier>();
        services.AddSingleton<PlannerStatistics>();
        services.AddSingleton<AnalysisIndexCompaction>();
        services.AddSingleton<KnownStreams>();
        services.AddSingleton<RecorderMetrics>();
        services.AddSingleton<LedgerRecorder>();
        services.AddSingleton<GroupCommit>();
        services.AddHostedService(sp => sp.GetRequiredService<GroupCommit>());
        services.AddSingleton<LiveFeed>();
        services.AddSingleton<AuditChain>();
        services.AddHostedService<AuditChainFollower>();
        return services;
    }
}
